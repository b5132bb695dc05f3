/**
 * A small interpreter for the part of BSL the processing's pure functions use (strings, arrays,
 * structures, maps, Если/Для/Пока/Попытка, by-reference parameters), so that the Markdown renderer
 * and other text functions can be run on real model output without a 1C platform. It refuses
 * anything outside that subset rather than guessing.
 */

type Value = string | number | boolean | undefined | Value[] | BslStructure | BslMap | BslPair;

export class BslStructure {
  readonly fields = new Map<string, { name: string; value: Value }>();
  get(name: string): Value {
    const found = this.fields.get(name.toLowerCase());
    if (found === undefined) throw new BslRunError(`Поле объекта не обнаружено (${name})`);
    return found.value;
  }
  set(name: string, value: Value): void {
    this.fields.set(name.toLowerCase(), { name, value });
  }
}
export class BslMap {
  readonly entries = new Map<Value, Value>();
}
class BslPair {
  readonly key: Value;
  readonly value: Value;
  constructor(key: Value, value: Value) {
    this.key = key;
    this.value = value;
  }
}
export class BslRunError extends Error {}

interface Token {
  kind: 'word' | 'number' | 'string' | 'symbol' | 'end';
  text: string;
  line: number;
}

const SYMBOLS = ['<>', '<=', '>=', '+', '-', '*', '/', '%', '=', '<', '>', '(', ')', '[', ']', ',', ';', '.', '?'];

function tokenize(source: string): Token[] {
  const tokens: Token[] = [];
  const lines = source.replace(/^\uFEFF/, '').split('\n');
  let open: { text: string; line: number } | undefined;
  lines.forEach((raw, index) => {
    const line = index + 1;
    let text = raw.replace(/\r$/, '');
    let position = 0;
    if (open !== undefined) {
      const continuation = /^\s*\|/.exec(text);
      if (continuation === null) throw new BslRunError(`line ${line}: unclosed string`);
      open.text += '\n';
      position = continuation[0].length;
    } else if (/^\s*[#&]/.test(text)) {
      return;
    }
    while (position < text.length) {
      if (open !== undefined) {
        const quote = text.indexOf('"', position);
        if (quote === -1) {
          open.text += text.slice(position);
          position = text.length;
          break;
        }
        if (text[quote + 1] === '"') {
          open.text += `${text.slice(position, quote)}"`;
          position = quote + 2;
          continue;
        }
        open.text += text.slice(position, quote);
        tokens.push({ kind: 'string', text: open.text, line: open.line });
        open = undefined;
        position = quote + 1;
        continue;
      }
      const rest = text.slice(position);
      const space = /^\s+/.exec(rest);
      if (space !== null) {
        position += space[0].length;
        continue;
      }
      if (rest.startsWith('//')) break;
      if (rest[0] === '"') {
        open = { text: '', line };
        position += 1;
        continue;
      }
      const word = /^[\p{L}_][\p{L}\p{N}_]*/u.exec(rest);
      if (word !== null) {
        tokens.push({ kind: 'word', text: word[0], line });
        position += word[0].length;
        continue;
      }
      const number = /^\d+(\.\d+)?/.exec(rest);
      if (number !== null) {
        tokens.push({ kind: 'number', text: number[0], line });
        position += number[0].length;
        continue;
      }
      const symbol = SYMBOLS.find((candidate) => rest.startsWith(candidate));
      if (symbol === undefined) throw new BslRunError(`line ${line}: unexpected ${rest[0]}`);
      tokens.push({ kind: 'symbol', text: symbol, line });
      position += symbol.length;
    }
    text = '';
  });
  tokens.push({ kind: 'end', text: '', line: lines.length });
  return tokens;
}

type Expression =
  | { type: 'literal'; value: Value }
  | { type: 'name'; name: string }
  | { type: 'member'; target: Expression; name: string }
  | { type: 'index'; target: Expression; index: Expression }
  | { type: 'call'; target: Expression; args: Array<Expression | undefined> }
  | { type: 'new'; typeName: string; args: Array<Expression | undefined> }
  | { type: 'unary'; operator: string; operand: Expression }
  | { type: 'binary'; operator: string; left: Expression; right: Expression }
  | { type: 'ternary'; condition: Expression; whenTrue: Expression; otherwise: Expression };

type Statement =
  | { type: 'expression'; expression: Expression }
  | { type: 'assign'; target: Expression; value: Expression }
  | { type: 'if'; branches: Array<{ condition: Expression; body: Statement[] }>; otherwise: Statement[] }
  | { type: 'each'; variable: string; collection: Expression; body: Statement[] }
  | { type: 'for'; variable: string; from: Expression; to: Expression; body: Statement[] }
  | { type: 'while'; condition: Expression; body: Statement[] }
  | { type: 'try'; body: Statement[]; handler: Statement[] }
  | { type: 'return'; value: Expression | undefined }
  | { type: 'raise'; value: Expression | undefined }
  | { type: 'continue' }
  | { type: 'break' };

interface BslFunction {
  name: string;
  parameters: Array<{ name: string; byValue: boolean; default: Expression | undefined }>;
  body: Statement[];
}

const KEYWORD = (word: string) => word.toLowerCase();

class Parser {
  private position = 0;
  private readonly tokens: Token[];
  constructor(tokens: Token[]) {
    this.tokens = tokens;
  }

  private peek(offset = 0): Token {
    return this.tokens[this.position + offset] as Token;
  }
  private next(): Token {
    return this.tokens[this.position++] as Token;
  }
  private isWord(...words: string[]): boolean {
    const token = this.peek();
    return token.kind === 'word' && words.includes(KEYWORD(token.text));
  }
  private isSymbol(symbol: string): boolean {
    const token = this.peek();
    return token.kind === 'symbol' && token.text === symbol;
  }
  private expectWord(...words: string[]): void {
    if (!this.isWord(...words)) this.fail(`expected ${words[0]}`);
    this.position += 1;
  }
  private expectSymbol(symbol: string): void {
    if (!this.isSymbol(symbol)) this.fail(`expected ${symbol}`);
    this.position += 1;
  }
  private fail(message: string): never {
    const token = this.peek();
    throw new BslRunError(`line ${token.line}: ${message}, found "${token.text}"`);
  }

  module(): Map<string, BslFunction> {
    const functions = new Map<string, BslFunction>();
    while (this.peek().kind !== 'end') {
      if (this.isWord('процедура', 'функция')) {
        const found = this.method();
        functions.set(found.name.toLowerCase(), found);
      } else {
        this.position += 1; // module variables and the main section are not run
      }
    }
    return functions;
  }

  private method(): BslFunction {
    const isFunction = this.isWord('функция');
    this.position += 1;
    const name = this.next().text;
    this.expectSymbol('(');
    const parameters: BslFunction['parameters'] = [];
    while (!this.isSymbol(')')) {
      const byValue = this.isWord('знач');
      if (byValue) this.position += 1;
      const parameter = this.next().text;
      let fallback: Expression | undefined;
      if (this.isSymbol('=')) {
        this.position += 1;
        fallback = this.expression();
      }
      parameters.push({ name: parameter, byValue, default: fallback });
      if (this.isSymbol(',')) this.position += 1;
    }
    this.expectSymbol(')');
    if (this.isWord('экспорт')) this.position += 1;
    const body = this.statements(isFunction ? ['конецфункции'] : ['конецпроцедуры']);
    this.position += 1;
    return { name, parameters, body };
  }

  private statements(until: string[]): Statement[] {
    const body: Statement[] = [];
    while (!this.isWord(...until)) {
      if (this.peek().kind === 'end') this.fail(`expected ${until[0]}`);
      if (this.isSymbol(';')) {
        this.position += 1;
        continue;
      }
      body.push(this.statement());
    }
    return body;
  }

  private statement(): Statement {
    if (this.isWord('если')) {
      this.position += 1;
      const branches: Array<{ condition: Expression; body: Statement[] }> = [];
      let condition = this.expression();
      this.expectWord('тогда');
      let body = this.statements(['иначеесли', 'иначе', 'конецесли']);
      branches.push({ condition, body });
      while (this.isWord('иначеесли')) {
        this.position += 1;
        condition = this.expression();
        this.expectWord('тогда');
        body = this.statements(['иначеесли', 'иначе', 'конецесли']);
        branches.push({ condition, body });
      }
      let otherwise: Statement[] = [];
      if (this.isWord('иначе')) {
        this.position += 1;
        otherwise = this.statements(['конецесли']);
      }
      this.expectWord('конецесли');
      return { type: 'if', branches, otherwise };
    }
    if (this.isWord('для')) {
      this.position += 1;
      if (this.isWord('каждого')) {
        this.position += 1;
        const variable = this.next().text;
        this.expectWord('из');
        const collection = this.expression();
        this.expectWord('цикл');
        const body = this.statements(['конеццикла']);
        this.position += 1;
        return { type: 'each', variable, collection, body };
      }
      const variable = this.next().text;
      this.expectSymbol('=');
      const from = this.expression();
      this.expectWord('по');
      const to = this.expression();
      this.expectWord('цикл');
      const body = this.statements(['конеццикла']);
      this.position += 1;
      return { type: 'for', variable, from, to, body };
    }
    if (this.isWord('пока')) {
      this.position += 1;
      const condition = this.expression();
      this.expectWord('цикл');
      const body = this.statements(['конеццикла']);
      this.position += 1;
      return { type: 'while', condition, body };
    }
    if (this.isWord('попытка')) {
      this.position += 1;
      const body = this.statements(['исключение']);
      this.position += 1;
      const handler = this.statements(['конецпопытки']);
      this.position += 1;
      return { type: 'try', body, handler };
    }
    if (this.isWord('возврат', 'вызватьисключение')) {
      const raise = this.isWord('вызватьисключение');
      this.position += 1;
      const value =
        this.isSymbol(';') || this.isWord('конецесли', 'конецфункции', 'конецпроцедуры')
          ? undefined
          : this.expression();
      return raise ? { type: 'raise', value } : { type: 'return', value };
    }
    if (this.isWord('продолжить')) {
      this.position += 1;
      return { type: 'continue' };
    }
    if (this.isWord('прервать')) {
      this.position += 1;
      return { type: 'break' };
    }
    const target = this.postfix();
    if (this.isSymbol('=')) {
      this.position += 1;
      return { type: 'assign', target, value: this.expression() };
    }
    return { type: 'expression', expression: target };
  }

  expression(): Expression {
    return this.or();
  }
  private or(): Expression {
    let left = this.and();
    while (this.isWord('или')) {
      this.position += 1;
      left = { type: 'binary', operator: 'или', left, right: this.and() };
    }
    return left;
  }
  private and(): Expression {
    let left = this.not();
    while (this.isWord('и')) {
      this.position += 1;
      left = { type: 'binary', operator: 'и', left, right: this.not() };
    }
    return left;
  }
  private not(): Expression {
    if (this.isWord('не')) {
      this.position += 1;
      return { type: 'unary', operator: 'не', operand: this.not() };
    }
    return this.comparison();
  }
  private comparison(): Expression {
    let left = this.additive();
    while (['=', '<>', '<', '>', '<=', '>='].some((symbol) => this.isSymbol(symbol))) {
      const operator = this.next().text;
      left = { type: 'binary', operator, left, right: this.additive() };
    }
    return left;
  }
  private additive(): Expression {
    let left = this.multiplicative();
    while (this.isSymbol('+') || this.isSymbol('-')) {
      const operator = this.next().text;
      left = { type: 'binary', operator, left, right: this.multiplicative() };
    }
    return left;
  }
  private multiplicative(): Expression {
    let left = this.unary();
    while (this.isSymbol('*') || this.isSymbol('/') || this.isSymbol('%')) {
      const operator = this.next().text;
      left = { type: 'binary', operator, left, right: this.unary() };
    }
    return left;
  }
  private unary(): Expression {
    if (this.isSymbol('-')) {
      this.position += 1;
      return { type: 'unary', operator: '-', operand: this.unary() };
    }
    return this.postfix();
  }
  private args(): Array<Expression | undefined> {
    this.expectSymbol('(');
    const args: Array<Expression | undefined> = [];
    if (this.isSymbol(')')) {
      this.position += 1;
      return args;
    }
    for (;;) {
      args.push(this.isSymbol(',') || this.isSymbol(')') ? undefined : this.expression());
      if (this.isSymbol(',')) {
        this.position += 1;
        continue;
      }
      this.expectSymbol(')');
      return args;
    }
  }
  private postfix(): Expression {
    let expression = this.primary();
    for (;;) {
      if (this.isSymbol('.')) {
        this.position += 1;
        expression = { type: 'member', target: expression, name: this.next().text };
      } else if (this.isSymbol('[')) {
        this.position += 1;
        const index = this.expression();
        this.expectSymbol(']');
        expression = { type: 'index', target: expression, index };
      } else if (this.isSymbol('(')) {
        expression = { type: 'call', target: expression, args: this.args() };
      } else {
        return expression;
      }
    }
  }
  private primary(): Expression {
    const token = this.peek();
    if (token.kind === 'number') {
      this.position += 1;
      return { type: 'literal', value: Number(token.text) };
    }
    if (token.kind === 'string') {
      this.position += 1;
      return { type: 'literal', value: token.text };
    }
    if (this.isSymbol('(')) {
      this.position += 1;
      const inner = this.expression();
      this.expectSymbol(')');
      return inner;
    }
    if (this.isSymbol('?')) {
      this.position += 1;
      const [condition, whenTrue, otherwise] = this.args();
      return {
        type: 'ternary',
        condition: condition as Expression,
        whenTrue: whenTrue as Expression,
        otherwise: otherwise as Expression,
      };
    }
    if (token.kind === 'word') {
      const word = KEYWORD(token.text);
      this.position += 1;
      if (word === 'истина') return { type: 'literal', value: true };
      if (word === 'ложь') return { type: 'literal', value: false };
      if (word === 'неопределено') return { type: 'literal', value: undefined };
      if (word === 'новый') {
        const typeName = this.next().text;
        return { type: 'new', typeName, args: this.isSymbol('(') ? this.args() : [] };
      }
      return { type: 'name', name: token.text };
    }
    return this.fail('expected an expression');
  }
}

class Signal {
  readonly kind: 'return' | 'continue' | 'break';
  readonly value: Value;
  constructor(kind: 'return' | 'continue' | 'break', value?: Value) {
    this.kind = kind;
    this.value = value;
  }
}

function typeName(value: Value): string {
  if (typeof value === 'string') return 'Строка';
  if (typeof value === 'number') return 'Число';
  if (typeof value === 'boolean') return 'Булево';
  if (value === undefined) return 'Неопределено';
  if (Array.isArray(value)) return 'Массив';
  if (value instanceof BslStructure) return 'Структура';
  if (value instanceof BslMap) return 'Соответствие';
  return 'КлючИЗначение';
}

function filled(value: Value): boolean {
  if (value === undefined) return false;
  if (typeof value === 'string') return value.trim() !== '';
  if (typeof value === 'number') return value !== 0;
  if (typeof value === 'boolean') return true;
  if (Array.isArray(value)) return value.length > 0;
  if (value instanceof BslMap) return value.entries.size > 0;
  if (value instanceof BslStructure) return value.fields.size > 0;
  return true;
}

function equal(left: Value, right: Value): boolean {
  return left === right;
}

const text = (value: Value): string => {
  if (typeof value === 'string') return value;
  if (typeof value === 'number') return String(value);
  if (typeof value === 'boolean') return value ? 'Да' : 'Нет';
  if (value === undefined) return '';
  throw new BslRunError(`cannot convert ${typeName(value)} to a string`);
};

/** НСтр("ru = '…'"): the Russian text. */
function nstr(source: string): string {
  const match = /ru\s*=\s*'((?:[^']|'')*)'/.exec(source);
  return match === null ? source : (match[1] as string).replaceAll("''", "'");
}

const GLOBALS: Record<string, (...args: Value[]) => Value> = {
  стрзаменить: (s, from, to) => text(s).split(text(from)).join(text(to)),
  стрразделить: (s, separator, includeEmpty = true) => {
    const parts = text(s).split(text(separator));
    return includeEmpty === false ? parts.filter((part) => part !== '') : parts;
  },
  стрначинаетсяс: (s, prefix) => text(s).startsWith(text(prefix)),
  стрзаканчиваетсяна: (s, suffix) => text(s).endsWith(text(suffix)),
  сокрл: (s) => text(s).replace(/^\s+/, ''),
  сокрп: (s) => text(s).replace(/\s+$/, ''),
  сокрлп: (s) => text(s).trim(),
  сред: (s, start, length) => {
    const from = Math.max(1, start as number) - 1;
    return length === undefined ? text(s).slice(from) : text(s).slice(from, from + (length as number));
  },
  лев: (s, length) => text(s).slice(0, length as number),
  прав: (s, length) => text(s).slice(Math.max(0, text(s).length - (length as number))),
  стрдлина: (s) => text(s).length,
  стрнайти: (s, sub, _direction, start) => {
    const from = start === undefined ? 0 : (start as number) - 1;
    return text(s).indexOf(text(sub), from) + 1;
  },
  стрсоединить: (parts, separator = '') => (parts as Value[]).map(text).join(text(separator)),
  стршаблон: (template, ...args) => text(template).replace(/%(\d)/g, (_match, digit) => text(args[Number(digit) - 1])),
  формат: (value) => String(value),
  число: (value) => {
    const parsed = typeof value === 'number' ? value : Number(text(value).trim());
    if (text(value).trim() === '' || Number.isNaN(parsed))
      throw new BslRunError(`Преобразование значения к типу Число не может быть выполнено`);
    return parsed;
  },
  нрег: (s) => text(s).toLowerCase(),
  врег: (s) => text(s).toUpperCase(),
  нстр: (s) => nstr(text(s)),
  значениезаполнено: (value) => filled(value),
  пустаястрока: (s) => text(s).trim() === '',
  типзнч: (value) => typeName(value),
  тип: (name) => text(name),
  макс: (...values) => Math.max(...(values as number[])),
  мин: (...values) => Math.min(...(values as number[])),
};

type Scope = Map<string, Value>;

/** Loads a module and runs its functions by name, arguments as JS values. */
export class BslRunner {
  private readonly functions: Map<string, BslFunction>;
  /** Module attributes and variables (e.g. `МаксимумСообщений`), readable by every function. */
  readonly attributes = new Map<string, Value>();

  constructor(source: string) {
    this.functions = new Parser(tokenize(source)).module();
  }

  call(name: string, ...args: Value[]): Value {
    return this.invoke(
      name,
      args.map((value) => ({ value })),
    );
  }

  private invoke(name: string, args: Array<{ value: Value; assign?: (value: Value) => void } | undefined>): Value {
    const found = this.functions.get(name.toLowerCase());
    if (found === undefined) throw new BslRunError(`no function ${name}`);
    const scope: Scope = new Map();
    found.parameters.forEach((parameter, index) => {
      const given = args[index];
      const value =
        given === undefined
          ? parameter.default === undefined
            ? undefined
            : this.evaluate(parameter.default, scope)
          : given.value;
      scope.set(parameter.name.toLowerCase(), value);
    });
    let result: Value;
    try {
      this.run(found.body, scope);
    } catch (signal) {
      if (!(signal instanceof Signal) || signal.kind !== 'return') throw signal;
      result = signal.value;
    }
    found.parameters.forEach((parameter, index) => {
      if (!parameter.byValue) args[index]?.assign?.(scope.get(parameter.name.toLowerCase()));
    });
    return result;
  }

  private run(body: Statement[], scope: Scope): void {
    for (const statement of body) this.execute(statement, scope);
  }

  private loop(body: Statement[], scope: Scope): 'break' | undefined {
    try {
      this.run(body, scope);
    } catch (signal) {
      if (signal instanceof Signal && signal.kind === 'continue') return undefined;
      if (signal instanceof Signal && signal.kind === 'break') return 'break';
      throw signal;
    }
    return undefined;
  }

  private execute(statement: Statement, scope: Scope): void {
    switch (statement.type) {
      case 'expression':
        this.evaluate(statement.expression, scope);
        return;
      case 'assign':
        this.assign(statement.target, this.evaluate(statement.value, scope), scope);
        return;
      case 'if': {
        const chosen = statement.branches.find((branch) => this.evaluate(branch.condition, scope) === true);
        this.run(chosen === undefined ? statement.otherwise : chosen.body, scope);
        return;
      }
      case 'each': {
        const collection = this.evaluate(statement.collection, scope);
        const items = Array.isArray(collection)
          ? [...collection]
          : collection instanceof BslMap
            ? [...collection.entries].map(([key, value]) => new BslPair(key, value))
            : collection instanceof BslStructure
              ? [...collection.fields.values()].map((field) => new BslPair(field.name, field.value))
              : undefined;
        if (items === undefined) throw new BslRunError(`cannot iterate ${typeName(collection)}`);
        for (const item of items) {
          scope.set(statement.variable.toLowerCase(), item);
          if (this.loop(statement.body, scope) === 'break') break;
        }
        return;
      }
      case 'for': {
        const to = this.evaluate(statement.to, scope) as number;
        const name = statement.variable.toLowerCase();
        scope.set(name, this.evaluate(statement.from, scope));
        while ((scope.get(name) as number) <= to) {
          if (this.loop(statement.body, scope) === 'break') break;
          scope.set(name, (scope.get(name) as number) + 1);
        }
        return;
      }
      case 'while':
        while (this.evaluate(statement.condition, scope) === true) {
          if (this.loop(statement.body, scope) === 'break') break;
        }
        return;
      case 'try':
        try {
          this.run(statement.body, scope);
        } catch (error) {
          if (!(error instanceof BslRunError)) throw error;
          this.run(statement.handler, scope);
        }
        return;
      case 'return':
        throw new Signal('return', statement.value === undefined ? undefined : this.evaluate(statement.value, scope));
      case 'raise':
        throw new BslRunError(statement.value === undefined ? 'raised' : text(this.evaluate(statement.value, scope)));
      case 'continue':
        throw new Signal('continue');
      case 'break':
        throw new Signal('break');
    }
  }

  private assign(target: Expression, value: Value, scope: Scope): void {
    if (target.type === 'name') {
      const name = target.name.toLowerCase();
      if (!scope.has(name) && this.attributes.has(name)) this.attributes.set(name, value);
      else scope.set(name, value);
    } else if (target.type === 'member') {
      const object = this.evaluate(target.target, scope);
      if (!(object instanceof BslStructure)) throw new BslRunError(`cannot set ${target.name} of ${typeName(object)}`);
      object.get(target.name); // a Структура field must exist before it is assigned
      object.set(target.name, value);
    } else if (target.type === 'index') {
      const object = this.evaluate(target.target, scope);
      if (!Array.isArray(object)) throw new BslRunError(`cannot index ${typeName(object)}`);
      const index = this.evaluate(target.index, scope) as number;
      if (index < 0 || index >= object.length) throw new BslRunError('Значение индекса выходит за пределы диапазона');
      object[index] = value;
    } else {
      throw new BslRunError(`cannot assign to ${target.type}`);
    }
  }

  private lookup(name: string, scope: Scope): Value {
    const key = name.toLowerCase();
    if (scope.has(key)) return scope.get(key);
    if (this.attributes.has(key)) return this.attributes.get(key);
    if (key === 'символы') {
      const symbols = new BslStructure();
      symbols.set('ПС', '\n');
      symbols.set('ВК', '\r');
      symbols.set('Таб', '\t');
      return symbols;
    }
    throw new BslRunError(`Переменная не определена (${name})`);
  }

  private evaluate(expression: Expression, scope: Scope): Value {
    switch (expression.type) {
      case 'literal':
        return expression.value;
      case 'name':
        return this.lookup(expression.name, scope);
      case 'member': {
        const object = this.evaluate(expression.target, scope);
        if (object instanceof BslStructure) return object.get(expression.name);
        if (object instanceof BslPair) {
          const member = expression.name.toLowerCase();
          if (member === 'ключ') return object.key;
          if (member === 'значение') return object.value;
        }
        throw new BslRunError(`no property ${expression.name} on ${typeName(object)}`);
      }
      case 'index': {
        const object = this.evaluate(expression.target, scope);
        const index = this.evaluate(expression.index, scope) as number;
        if (!Array.isArray(object)) throw new BslRunError(`cannot index ${typeName(object)}`);
        if (index < 0 || index >= object.length) throw new BslRunError('Значение индекса выходит за пределы диапазона');
        return object[index];
      }
      case 'ternary':
        return this.evaluate(expression.condition, scope) === true
          ? this.evaluate(expression.whenTrue, scope)
          : this.evaluate(expression.otherwise, scope);
      case 'unary': {
        const operand = this.evaluate(expression.operand, scope);
        return expression.operator === 'не' ? !(operand as boolean) : -(operand as number);
      }
      case 'binary':
        return this.binary(expression, scope);
      case 'new':
        return this.create(
          expression.typeName,
          expression.args.map((arg) => (arg === undefined ? undefined : this.evaluate(arg, scope))),
        );
      case 'call':
        return this.callExpression(expression, scope);
    }
  }

  private binary(expression: Extract<Expression, { type: 'binary' }>, scope: Scope): Value {
    const left = this.evaluate(expression.left, scope);
    if (expression.operator === 'и') return left === true && this.evaluate(expression.right, scope) === true;
    if (expression.operator === 'или') return left === true || this.evaluate(expression.right, scope) === true;
    const right = this.evaluate(expression.right, scope);
    switch (expression.operator) {
      case '+':
        return typeof left === 'string' ? left + text(right) : (left as number) + (right as number);
      case '-':
        return (left as number) - (right as number);
      case '*':
        return (left as number) * (right as number);
      case '/':
        return (left as number) / (right as number);
      case '%':
        return (left as number) % (right as number);
      case '=':
        return equal(left, right);
      case '<>':
        return !equal(left, right);
      case '<':
        return (left as number) < (right as number);
      case '>':
        return (left as number) > (right as number);
      case '<=':
        return (left as number) <= (right as number);
      default:
        return (left as number) >= (right as number);
    }
  }

  private create(name: string, args: Value[]): Value {
    switch (name.toLowerCase()) {
      case 'массив':
        return args[0] === undefined ? [] : Array.from({ length: args[0] as number }, () => undefined);
      case 'соответствие':
        return new BslMap();
      case 'структура': {
        const structure = new BslStructure();
        if (typeof args[0] === 'string') {
          text(args[0])
            .split(',')
            .map((key) => key.trim())
            .filter((key) => key !== '')
            .forEach((key, index) => {
              structure.set(key, args[index + 1]);
            });
        }
        return structure;
      }
      default:
        throw new BslRunError(`Новый ${name} is outside the interpreted subset`);
    }
  }

  private callExpression(expression: Extract<Expression, { type: 'call' }>, scope: Scope): Value {
    const { target } = expression;
    const values = () => expression.args.map((arg) => (arg === undefined ? undefined : this.evaluate(arg, scope)));
    if (target.type === 'name') {
      const name = target.name.toLowerCase();
      if (this.functions.has(name)) {
        // Parameters without Знач are passed by reference: a plain variable gets the new value back.
        const args = expression.args.map((arg) => {
          if (arg === undefined) return undefined;
          const value = this.evaluate(arg, scope);
          if (arg.type !== 'name') return { value };
          return { value, assign: (changed: Value) => this.assign(arg, changed, scope) };
        });
        return this.invoke(name, args);
      }
      const global = GLOBALS[name];
      if (global === undefined)
        throw new BslRunError(`Процедура или функция с указанным именем не определена (${target.name})`);
      return global(...values());
    }
    if (target.type !== 'member') throw new BslRunError('unsupported call');
    const object = this.evaluate(target.target, scope);
    const method = target.name.toLowerCase();
    const args = values();
    if (Array.isArray(object)) {
      if (method === 'добавить') return void object.push(args[0]);
      if (method === 'количество') return object.length;
      if (method === 'вграница') return object.length - 1;
      if (method === 'очистить') return void object.splice(0);
      if (method === 'удалить') return void object.splice(args[0] as number, 1);
    }
    if (object instanceof BslMap) {
      if (method === 'вставить') return void object.entries.set(args[0], args[1]);
      if (method === 'получить') return object.entries.get(args[0]);
      if (method === 'количество') return object.entries.size;
    }
    if (object instanceof BslStructure) {
      if (method === 'вставить') return void object.set(text(args[0]), args[1]);
      if (method === 'свойство') return object.fields.has(text(args[0]).toLowerCase());
    }
    throw new BslRunError(`no method ${target.name} on ${typeName(object)}`);
  }
}

/** A Соответствие from a plain object, for arguments such as messages. */
export function bslMap(entries: Record<string, Value>): BslMap {
  const map = new BslMap();
  for (const [key, value] of Object.entries(entries)) map.entries.set(key, value);
  return map;
}
