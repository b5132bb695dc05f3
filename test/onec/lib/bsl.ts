/**
 * A structural reader for 1C:Enterprise modules (BSL), enough to check sources without the platform:
 * string literals (`""` escapes, `|` continuation lines), comments, block keywords, preprocessor
 * instructions, compilation directives and method headers.
 */

export interface BslMethod {
  kind: 'Процедура' | 'Функция';
  name: string;
  /** Parameter names, without `Знач` and default values. */
  parameters: string[];
  /** The parameter list as written. */
  signature: string;
  exported: boolean;
  /** The compilation directive just above the header (`&НаКлиенте`…), if any. */
  directive: string | undefined;
  /** 1-based lines of the header and of the closing keyword. */
  startLine: number;
  endLine: number;
  /** The source of the method, header to closing keyword. */
  source: string;
  /** The method's code with comments and string contents blanked out (strings become `""`). */
  code: string;
}

export interface BslModule {
  methods: BslMethod[];
  /** Structural problems; empty for a sound module. */
  errors: string[];
  /** Code with comments removed and string literal contents replaced by `""`. */
  code: string[];
  /** Every string literal's value (escapes resolved, continuation lines joined with a line break). */
  strings: Array<{ line: number; value: string }>;
}

// English aliases are part of the language; the Designer accepts either.
const KEYWORDS = new Map<string, string>([
  ['процедура', 'Процедура'],
  ['procedure', 'Процедура'],
  ['конецпроцедуры', 'КонецПроцедуры'],
  ['endprocedure', 'КонецПроцедуры'],
  ['функция', 'Функция'],
  ['function', 'Функция'],
  ['конецфункции', 'КонецФункции'],
  ['endfunction', 'КонецФункции'],
  ['если', 'Если'],
  ['if', 'Если'],
  ['иначеесли', 'ИначеЕсли'],
  ['elsif', 'ИначеЕсли'],
  ['иначе', 'Иначе'],
  ['else', 'Иначе'],
  ['конецесли', 'КонецЕсли'],
  ['endif', 'КонецЕсли'],
  ['для', 'Для'],
  ['for', 'Для'],
  ['пока', 'Пока'],
  ['while', 'Пока'],
  ['цикл', 'Цикл'],
  ['do', 'Цикл'],
  ['конеццикла', 'КонецЦикла'],
  ['enddo', 'КонецЦикла'],
  ['попытка', 'Попытка'],
  ['try', 'Попытка'],
  ['исключение', 'Исключение'],
  ['except', 'Исключение'],
  ['конецпопытки', 'КонецПопытки'],
  ['endtry', 'КонецПопытки'],
  ['тогда', 'Тогда'],
  ['then', 'Тогда'],
]);

const OPENERS: Record<string, string> = {
  Процедура: 'КонецПроцедуры',
  Функция: 'КонецФункции',
  Если: 'КонецЕсли',
  Для: 'КонецЦикла',
  Пока: 'КонецЦикла',
  Попытка: 'КонецПопытки',
};
const CLOSERS = new Set(Object.values(OPENERS));
const WORD = /[\p{L}_][\p{L}\p{N}_]*/gu;

interface Open {
  keyword: string;
  line: number;
  /** Для/Пока need Цикл, Если/ИначеЕсли need Тогда before the block body. */
  awaiting?: string;
}

/** Blanks comments and string contents of one module; collects literals and unclosed-string errors. */
function stripLiterals(lines: string[], errors: string[]): { code: string[]; strings: BslModule['strings'] } {
  const code: string[] = [];
  const strings: BslModule['strings'] = [];
  let open: { line: number; value: string } | undefined;
  lines.forEach((text, index) => {
    const lineNumber = index + 1;
    let output = '';
    let position = 0;
    if (open !== undefined) {
      const continuation = /^\s*\|/.exec(text);
      if (continuation === null) {
        errors.push(`line ${open.line}: string literal is not closed (line ${lineNumber} does not continue it with |)`);
        open = undefined;
      } else {
        open.value += '\n';
        position = continuation[0].length;
      }
    }
    while (position <= text.length) {
      if (open !== undefined) {
        const quote = text.indexOf('"', position);
        if (quote === -1) {
          open.value += text.slice(position);
          break;
        }
        if (text[quote + 1] === '"') {
          open.value += `${text.slice(position, quote)}"`;
          position = quote + 2;
          continue;
        }
        open.value += text.slice(position, quote);
        strings.push(open);
        open = undefined;
        output += '""';
        position = quote + 1;
        continue;
      }
      const rest = text.slice(position);
      const next = /"|\/\/|'/.exec(rest);
      if (next === null) {
        output += rest;
        break;
      }
      output += rest.slice(0, next.index);
      position += next.index;
      if (next[0] === '//') break;
      if (next[0] === "'") {
        const close = text.indexOf("'", position + 1);
        if (close === -1) {
          errors.push(`line ${lineNumber}: date literal is not closed`);
          break;
        }
        output += "''";
        position = close + 1;
        continue;
      }
      open = { line: lineNumber, value: '' };
      position += 1;
    }
    code.push(output);
  });
  if (open !== undefined) errors.push(`line ${open.line}: string literal is not closed at the end of the module`);
  return { code, strings };
}

function parameterNames(signature: string): string[] {
  if (signature.trim() === '') return [];
  return signature.split(',').map((parameter) =>
    parameter
      .replace(/=.*$/s, '')
      .replace(/^\s*(Знач|Val)\s+/i, '')
      .trim(),
  );
}

/** Reads a module; `errors` lists every structural problem found. */
export function parseBsl(source: string): BslModule {
  const lines = source
    .replace(/^\uFEFF/, '')
    .split('\n')
    .map((line) => line.replace(/\r$/, ''));
  const errors: string[] = [];
  const { code, strings } = stripLiterals(lines, errors);
  const methods: BslMethod[] = [];
  const blocks: Open[] = [];
  const preprocessor: Open[] = [];
  let directive: { name: string; line: number } | undefined;
  let method: Omit<BslMethod, 'endLine' | 'source' | 'code'> | undefined;

  code.forEach((text, index) => {
    const lineNumber = index + 1;
    const trimmed = text.trim();
    if (trimmed.startsWith('#')) {
      const instruction = /^#\s*([\p{L}]+)/u.exec(trimmed)?.[1]?.toLowerCase();
      if (instruction === 'если' || instruction === 'if') preprocessor.push({ keyword: '#Если', line: lineNumber });
      else if (instruction === 'область' || instruction === 'region') {
        preprocessor.push({ keyword: '#Область', line: lineNumber });
      } else if (
        instruction === 'иначеесли' ||
        instruction === 'иначе' ||
        instruction === 'elsif' ||
        instruction === 'else'
      ) {
        if (preprocessor.at(-1)?.keyword !== '#Если') errors.push(`line ${lineNumber}: ${trimmed} outside #Если`);
      } else if (instruction === 'конецесли' || instruction === 'endif') {
        if (preprocessor.pop()?.keyword !== '#Если') errors.push(`line ${lineNumber}: #КонецЕсли without #Если`);
      } else if (instruction === 'конецобласти' || instruction === 'endregion') {
        if (preprocessor.pop()?.keyword !== '#Область')
          errors.push(`line ${lineNumber}: #КонецОбласти without #Область`);
      } else {
        errors.push(`line ${lineNumber}: unknown preprocessor instruction ${trimmed}`);
      }
      return;
    }
    if (trimmed.startsWith('&')) {
      directive = { name: trimmed, line: lineNumber };
      return;
    }

    for (const match of text.matchAll(WORD)) {
      // `Объект.Если` would be a property, not a keyword.
      if (match.index > 0 && text[match.index - 1] === '.') continue;
      const keyword = KEYWORDS.get(match[0].toLowerCase());
      if (keyword === undefined) continue;
      const top = blocks.at(-1);
      if (keyword === 'Процедура' || keyword === 'Функция') {
        if (blocks.length > 0)
          errors.push(`line ${lineNumber}: ${keyword} inside ${top?.keyword} of line ${top?.line}`);
        const header = new RegExp(
          `^\\s*${match[0]}\\s+([\\p{L}_][\\p{L}\\p{N}_]*)\\s*\\(([^)]*)\\)\\s*(.*)$`,
          'u',
        ).exec(lines[index] as string);
        if (header === null) {
          errors.push(`line ${lineNumber}: cannot read the header of this ${keyword}`);
        } else {
          method = {
            kind: keyword,
            name: header[1] as string,
            signature: header[2] as string,
            parameters: parameterNames(header[2] as string),
            exported: /^(Экспорт|Export)(?![\p{L}\p{N}_])/iu.test((header[3] as string).trim()),
            directive: directive !== undefined && directive.line === lineNumber - 1 ? directive.name : undefined,
            startLine: lineNumber,
          };
        }
        blocks.push({ keyword, line: lineNumber });
        break; // the rest of a header line is its parameter list
      }
      if (OPENERS[keyword] !== undefined) {
        const awaiting = keyword === 'Если' ? 'Тогда' : keyword === 'Для' || keyword === 'Пока' ? 'Цикл' : undefined;
        blocks.push({ keyword, line: lineNumber, awaiting });
      } else if (keyword === 'Тогда' || keyword === 'Цикл') {
        if (top?.awaiting !== keyword) errors.push(`line ${lineNumber}: ${keyword} without its header`);
        else top.awaiting = undefined;
      } else if (keyword === 'ИначеЕсли') {
        if (top?.keyword !== 'Если') errors.push(`line ${lineNumber}: ИначеЕсли outside Если`);
        else top.awaiting = 'Тогда';
      } else if (keyword === 'Иначе') {
        if (top?.keyword !== 'Если') errors.push(`line ${lineNumber}: Иначе outside Если`);
      } else if (keyword === 'Исключение') {
        if (top?.keyword !== 'Попытка') errors.push(`line ${lineNumber}: Исключение outside Попытка`);
      } else if (CLOSERS.has(keyword)) {
        const opened = blocks.pop();
        if (opened === undefined || OPENERS[opened.keyword] !== keyword) {
          const what = opened === undefined ? 'nothing' : `${opened.keyword} of line ${opened.line}`;
          errors.push(`line ${lineNumber}: ${keyword} closes ${what}`);
          if (opened !== undefined) blocks.push(opened);
          continue;
        }
        if (opened.awaiting !== undefined)
          errors.push(`line ${opened.line}: ${opened.keyword} without ${opened.awaiting}`);
        if ((keyword === 'КонецПроцедуры' || keyword === 'КонецФункции') && method !== undefined) {
          methods.push({
            ...method,
            endLine: lineNumber,
            source: lines.slice(method.startLine - 1, lineNumber).join('\n'),
            code: code.slice(method.startLine - 1, lineNumber).join('\n'),
          });
          method = undefined;
        }
      }
    }
  });
  for (const open of blocks) errors.push(`line ${open.line}: ${open.keyword} is never closed`);
  for (const open of preprocessor) errors.push(`line ${open.line}: ${open.keyword} is never closed`);
  return { methods, errors, code, strings };
}

/** The method with this name; throws when there is none. */
export function method(module: BslModule, name: string): BslMethod {
  const found = module.methods.find((candidate) => candidate.name === name);
  if (found === undefined) throw new Error(`no method ${name}`);
  return found;
}

/** The string literals inside one method, in order. */
export function stringsIn(module: BslModule, target: BslMethod): string[] {
  return module.strings
    .filter((literal) => literal.line >= target.startLine && literal.line <= target.endLine)
    .map((literal) => literal.value);
}
