import { expect } from 'chai';
import { type BslMethod, type BslModule, method, stringsIn } from './lib/bsl.ts';
import { dumpLayout, readBsl, readXml } from './lib/dump.ts';
import { child, childrenNamed, descendants } from './lib/xml.ts';

/*
 * The processor's modules, checked without a 1C platform: structure, the export API, where HTTP
 * runs, the HTTP/JSON idioms the issue asks for, and the wiring between Form.xml and the form module.
 */

const layout = dumpLayout();
const form = layout.forms[0] as (typeof layout.forms)[number];
const objectModule = readBsl(layout.objectModule);
const formModule = readBsl(form.module);

/** The parameters each event handler receives, and where it runs. */
const HANDLERS: Record<string, { directive: string; parameters: number }> = {
  OnCreateAtServer: { directive: '&НаСервере', parameters: 2 },
  // ПриЗакрытии(ЗавершениеРаботы) from 8.3.8; an older compatibility mode passes nothing, which BSL allows.
  OnClose: { directive: '&НаКлиенте', parameters: 1 },
  OnChange: { directive: '&НаКлиенте', parameters: 1 },
  OnClick: { directive: '&НаКлиенте', parameters: 3 },
  Command: { directive: '&НаКлиенте', parameters: 1 },
};
const DIRECTIVES = ['&НаКлиенте', '&НаСервере', '&НаСервереБезКонтекста', '&НаКлиентеНаСервереБезКонтекста'];

/** Code lines of a method without comments and string contents, joined. */
const codeOf = (module: BslModule, name: string) => method(module, name).code;

/** The condition of every `Если` that encloses a line of a method, innermost last. */
function enclosingConditions(target: BslMethod, lineText: RegExp): string[] {
  const lines = target.code.split('\n');
  const index = lines.findIndex((line) => lineText.test(line));
  if (index === -1) throw new Error(`no line ${lineText} in ${target.name}`);
  const open: string[] = [];
  for (const line of lines.slice(0, index)) {
    const condition = /^\s*Если\s+(.*?)\s+Тогда\s*$/.exec(line);
    if (condition !== null) open.push(condition[1] as string);
    if (/^\s*КонецЕсли;/.test(line)) open.pop();
  }
  return open;
}

/**
 * Global functions the modules may call: all exist in 8.3.10 (the Стр* string functions and
 * ПрочитатьJSON/ЗаписатьJSON since 8.3.6). Anything else must be a method of the module itself, so
 * a typo or a newer platform function (regular expressions 8.3.23, Асинх 8.3.18) fails here.
 */
const PLATFORM_FUNCTIONS = new Set([
  'Base64Строка',
  'ЗаписатьJSON',
  'ЗаписьЖурналаРегистрации',
  'ЗаполнитьЗначенияСвойств',
  'ЗначениеЗаполнено',
  'ИнформацияОбОшибке',
  'КодироватьСтроку',
  'КраткоеПредставлениеОшибки',
  'Лев',
  'Макс',
  'НРег',
  'НСтр',
  'ОписаниеОшибки',
  'ОтключитьОбработчикОжидания',
  'ПерейтиПоНавигационнойСсылке',
  'ПодключитьОбработчикОжидания',
  'ПоказатьВопрос',
  'ПодробноеПредставлениеОшибки',
  'ПравоДоступа',
  'ПоказатьПредупреждение',
  'ПрочитатьJSON',
  'ПустаяСтрока',
  'РеквизитФормыВЗначение',
  'СокрЛ',
  'СокрЛП',
  'Состояние',
  'Сред',
  'СтрДлина',
  'СтрЗаканчиваетсяНа',
  'СтрЗаменить',
  'СтрНайти',
  'СтрНачинаетсяС',
  'СтрРазделить',
  'СтрСоединить',
  'СтрШаблон',
  'Вычислить',
  'Тип',
  'ТипЗнч',
  'Формат',
  'Число',
]);
const OPERATORS = new Set(['И', 'Или', 'Не']);

/**
 * Properties of a managed form (ClientApplicationForm). In a form-module method a bare name is
 * looked up in the form first, so `Заголовок = "Модель"` retitles the window instead of making a local.
 */
const FORM_PROPERTIES = [
  'Заголовок',
  'АвтоЗаголовок',
  'Элементы',
  'Параметры',
  'Команды',
  'ТолькоПросмотр',
  'Модифицированность',
  'ТекущийЭлемент',
  'КлючУникальности',
  'ВладелецФормы',
  'Окно',
  'РежимОткрытияОкна',
  'ИмяФормы',
  'ЗакрыватьПриВыборе',
  'ЗакрыватьПриЗакрытииВладельца',
  'КоманднаяПанель',
  'ПоложениеКоманднойПанели',
  'Картинка',
  'Ширина',
  'Высота',
  'Открыта',
  'Доступность',
  'ВосстанавливатьТекущийЭлемент',
  'СохранятьДанныеВНастройках',
];

/** Names called as functions without an object before them (`Имя(`), `Новый Тип(` excluded. */
function globalCalls(module: BslModule): string[] {
  const calls = new Set<string>();
  for (const line of module.code) {
    for (const match of line.matchAll(/(?<![.\p{L}\p{N}_])([\p{L}_][\p{L}\p{N}_]*)\s*\(/gu)) {
      if (/(Новый|New)$/i.test(line.slice(0, match.index).trimEnd())) continue;
      calls.add(match[1] as string);
    }
  }
  return [...calls];
}

describe('onec: the BSL modules', () => {
  for (const [name, module] of [
    ['object module', objectModule],
    ['form module', formModule],
  ] as const) {
    it(`${name}: blocks are balanced and every string literal is closed`, () => {
      expect(module.errors).to.deep.equal([]);
      expect(module.methods.length).to.be.greaterThan(5);
    });

    it(`${name}: calls only its own methods and platform functions of 8.3.10`, () => {
      const own = new Set(module.methods.map((candidate) => candidate.name));
      const unknown = globalCalls(module).filter(
        (call) => !own.has(call) && !PLATFORM_FUNCTIONS.has(call) && !OPERATORS.has(call),
      );
      expect(unknown).to.deep.equal([]);
      // Async methods and Ждать need 8.3.18+ and a compatibility mode this processing cannot assume.
      expect(module.code.join('\n')).not.to.match(
        /Асинх(?![\p{L}\p{N}_])|(?<![\p{L}\p{N}_])(Ждать|Await|Async)(?![\p{L}\p{N}_])/u,
      );
    });
  }

  describe('object module', () => {
    it('compiles only where a server context exists and refuses the client, as real code does', () => {
      const lines = objectModule.code.map((line) => line.trim()).filter((line) => line !== '');
      expect(lines[0]).to.equal('#Если Сервер Или ТолстыйКлиентОбычноеПриложение Или ВнешнееСоединение Тогда');
      expect(lines.slice(-3)).to.deep.equal(['#Иначе', 'ВызватьИсключение НСтр("");', '#КонецЕсли']);
    });

    it('has no compilation directives (they belong to form modules)', () => {
      expect(objectModule.methods.filter((candidate) => candidate.directive !== undefined)).to.deep.equal([]);
      expect(objectModule.code.filter((line) => line.trim().startsWith('&'))).to.deep.equal([]);
    });

    it('forces stream off after merging ДопПараметры, so a caller cannot ask for an event stream', () => {
      const send = method(objectModule, 'ОтправитьСообщения');
      const lines = send.source.split('\n');
      const merged = lines.findIndex((line) => line.includes('Для Каждого Параметр Из ДопПараметры Цикл'));
      const forced = lines.findIndex((line) => /Тело\.Вставить\("stream", Ложь\);/.test(line));
      expect(merged).to.be.greaterThan(0);
      expect(forced).to.be.greaterThan(merged);
      expect(lines.slice(forced + 1).join('\n')).not.to.match(/Тело\.Вставить/);
    });

    it('returns finish_reason to callers and explains an empty answer', () => {
      expect(method(objectModule, 'ПричинаЗавершенияОтвета').exported).to.equal(true);
      expect(method(objectModule, 'ПричинаЗавершенияОтвета').source).to.contain('Получить("finish_reason")');
      const ask = method(objectModule, 'Спросить');
      expect(ask.parameters.at(-1)).to.equal('ПричинаЗавершения');
      expect(ask.signature).not.to.match(/Знач ПричинаЗавершения/); // an output parameter
      expect(ask.code).to.contain('ПричинаЗавершения = ПричинаЗавершенияОтвета(Ответ);');
      const explained = stringsIn(objectModule, method(objectModule, 'ОписаниеПустогоОтвета')).join('\n');
      for (const reason of ['length', 'tool_calls', 'content_filter']) expect(explained).to.contain(reason);
      expect(explained).to.contain('лимит токенов');
      expect(explained).to.contain('вызов функции');
    });

    it('caps the history at 20 messages by default, keeping every system message', () => {
      const last = method(objectModule, 'ПоследниеСообщения');
      expect(last.exported).to.equal(true);
      expect(last.signature).to.equal('Знач Сообщения, Знач Максимум = 0');
      expect(codeOf(objectModule, 'МаксимумСообщенийПоУмолчанию')).to.match(/Возврат 20;/);
      expect(objectModule.code.join('\n')).to.match(/^МаксимумСообщений = МаксимумСообщенийПоУмолчанию\(\);$/m);
      expect(last.source).to.contain('Если Сообщение.Получить("role") = "system" Тогда');
      expect(last.code).to.contain('Начало = Макс(0, Остальные.Количество() - Максимум);');
      expect(last.code).to.match(/Результат = Системные;[\s\S]*Для Индекс = Начало По Остальные\.ВГраница\(\) Цикл/);
    });

    it('exports the background API beside Спросить: start, poll, cancel and the readers of a response', () => {
      const signatures: Record<string, string> = {
        НачатьОтвет: 'Знач Сообщения, Знач ДопПараметры = Неопределено',
        СостояниеОтвета: 'Знач Идентификатор',
        ОтменитьОтвет: 'Знач Идентификатор',
        ИдентификаторОтвета: 'Знач Ответ',
        СтатусОтвета: 'Знач Ответ',
        ОтветЗавершен: 'Знач Ответ',
        ТекстОтвета: 'Знач Ответ',
        ОшибкаОтвета: 'Знач Ответ',
      };
      for (const [name, signature] of Object.entries(signatures)) {
        const found = method(objectModule, name);
        expect(found.exported, name).to.equal(true);
        expect(found.kind, name).to.equal('Функция');
        expect(found.signature, name).to.equal(signature);
      }
      const start = method(objectModule, 'НачатьОтвет');
      const lines = start.source.split('\n');
      const merged = lines.findIndex((line) => line.includes('Для Каждого Параметр Из ДопПараметры Цикл'));
      const forced = lines.findIndex((line) => line.includes('Тело.Вставить("background", Истина);'));
      expect(forced).to.be.greaterThan(merged);
      expect(lines[forced + 1]).to.contain('Тело.Вставить("stream", Ложь);');
      expect(start.source).to.contain('ВыполнитьЗапрос("POST", "/v1/responses", Тело)');
      expect(method(objectModule, 'СостояниеОтвета').code).to.contain('ВыполнитьЗапрос("", ПутьОтвета(Идентификатор))');
      expect(method(objectModule, 'ОтменитьОтвет').source).to.contain(
        'ВыполнитьЗапрос("POST", ПутьОтвета(Идентификатор) + "/cancel")',
      );
      expect(method(objectModule, 'ПутьОтвета').code).to.contain(
        'КодироватьСтроку(Идентификатор, СпособКодированияСтроки.КодировкаURL)',
      );
      expect(method(objectModule, 'ОтветЗавершен').source).to.contain('Статус <> "queued" И Статус <> "in_progress"');
    });

    it('exports Спросить, ОтправитьСообщения, СписокМоделей and МаркдаунВHTML with the issue signatures', () => {
      const api = (name: string) => {
        const found = method(objectModule, name);
        expect(found.exported, name).to.equal(true);
        expect(found.kind, name).to.equal('Функция');
        return found.signature.replace(/\s+/g, ' ').trim();
      };
      expect(api('Спросить')).to.equal(
        'Знач Текст, Знач СистемныйПромпт = "", Знач Модель = "", Знач Температура = Неопределено, ПричинаЗавершения = ""',
      );
      expect(api('ОтправитьСообщения')).to.equal('Знач Сообщения, Знач ДопПараметры = Неопределено');
      expect(api('СписокМоделей')).to.equal('');
      expect(api('ОписанияМоделей')).to.equal('');
      expect(method(objectModule, 'СписокМоделей').code).to.contain('Для Каждого Описание Из ОписанияМоделей() Цикл');
      expect(api('МаркдаунВHTML')).to.equal('Знач Текст');
    });

    it('parses answers into Соответствие and writes bodies with ЗаписьJSON, without a BOM', () => {
      const code = objectModule.code.join('\n');
      expect(code).to.match(/ПрочитатьJSON\(Чтение, Истина\)/);
      expect(code).not.to.match(/ПрочитатьJSON\([^,()]*\)/); // the Структура form breaks on OpenAI keys
      expect(code).to.match(/ЗаписатьJSON\(Запись, Данные\)/);
      const bodies = code.match(/УстановитьТелоИзСтроки\(.*\);/g) ?? [];
      expect(bodies).to.deep.equal([
        'УстановитьТелоИзСтроки(ЗаписатьВJSON(Данные), КодировкаТекста.UTF8, ИспользованиеByteOrderMark.НеИспользовать);',
      ]);
    });

    it('sends the key as a bearer token and JSON with its charset', () => {
      const request = method(objectModule, 'ВыполнитьЗапрос');
      const code = request.code;
      expect(code).to.match(/Заголовки\.Вставить\("", "" \+ СокрЛП\(КлючAPI\)\)/);
      expect(stringsIn(objectModule, request)).to.include.members([
        'Authorization',
        'Bearer ',
        'Content-Type',
        'application/json; charset=utf-8',
      ]);
    });

    it('verifies HTTPS against the OS store unless told not to, honours the system proxy and the timeout', () => {
      const code = codeOf(objectModule, 'НовоеСоединение');
      expect(code).to.contain('Новый ЗащищенноеСоединениеOpenSSL(, Новый СертификатыУдостоверяющихЦентровОС)');
      // Verification is switched off only by its flag; a CA file replaces the OS store, never the check.
      expect(code).to.match(
        /Если Не ПроверятьСертификат Тогда\s+ЗащищенноеСоединение = Новый ЗащищенноеСоединениеOpenSSL;\s+ИначеЕсли ЗначениеЗаполнено\(ФайлСертификатовУЦ\) Тогда\s+ЗащищенноеСоединение = Новый ЗащищенноеСоединениеOpenSSL\(,\s+Новый СертификатыУдостоверяющихЦентровФайл\(СокрЛП\(ФайлСертификатовУЦ\)\)\);\s+Иначе\s+ЗащищенноеСоединение = Новый ЗащищенноеСоединениеOpenSSL\(, Новый СертификатыУдостоверяющихЦентровОС\);/,
      );
      expect(
        enclosingConditions(method(objectModule, 'НовоеСоединение'), /ЗащищенноеСоединениеOpenSSL;/),
      ).to.deep.equal(['Адрес.Защищенное', 'Не ПроверятьСертификат']);
      // An explicit proxy first, then the system one.
      expect(code).to.match(
        /Если ЗначениеЗаполнено\(ПроксиСервер\) Тогда\s+Прокси = Новый ИнтернетПрокси\(Ложь\);[\s\S]*Прокси\.Установить\(Протокол, СокрЛП\(ПроксиСервер\), \?\(ПроксиПорт > 0, ПроксиПорт, 3128\),\s+СокрЛП\(ПроксиПользователь\), ПроксиПароль\);\s+Прокси\.НеИспользоватьПроксиДляЛокальныхАдресов = ПроксиНеДляЛокальныхАдресов;\s+ИначеЕсли ИспользоватьСистемныйПрокси Тогда\s+Прокси = Новый ИнтернетПрокси\(Истина\);/,
      );
      expect(objectModule.code.join('\n')).to.match(/^ПроксиНеДляЛокальныхАдресов = Истина;$/m);
      expect(code).to.match(
        /Новый HTTPСоединение\(Адрес\.Хост, Адрес\.Порт, , , Прокси, ТаймаутСекунд\(\), ЗащищенноеСоединение\)/,
      );
      expect(codeOf(objectModule, 'ТаймаутПоУмолчанию')).to.match(/Возврат 180;/);
      expect(objectModule.code.join('\n')).to.match(/^Таймаут = ТаймаутПоУмолчанию\(\);$/m);
      expect(objectModule.code.join('\n')).to.match(/^ПроверятьСертификат = Истина;$/m);
    });

    it('catches connection failures and timeouts and turns gateway errors into Russian text', () => {
      const request = method(objectModule, 'ВыполнитьЗапрос');
      expect(request.code).to.match(
        /Попытка\s+Соединение = НовоеСоединение\(Адрес\);[\s\S]*Исключение\s+Описание = ОписаниеОшибки\(\);\s+ПоследнийКодОшибки = ЭтапСбояСоединения\(Описание\);\s+ВызватьИсключение ОписаниеСбояСоединения\(ПоследнийКодОшибки, Описание\);/,
      );
      expect(request.code).to.match(
        /Если Ответ\.КодСостояния <> 200 Тогда\s+ПоследнийКодОшибки = КодОшибкиШлюза\(Результат\);\s+ВызватьИсключение ТекстОшибкиШлюза\(Ответ\.КодСостояния, Результат, ТекстОтвета, Ответ\.Заголовки\);/,
      );
      // The timeout is named only when the failure was one.
      const failure = stringsIn(objectModule, method(objectModule, 'ОписаниеСбояСоединения'));
      expect(failure.filter((text) => text.includes('%2'))).to.have.length(1);
      expect(failure.find((text) => text.includes('%2'))).to.contain('не ответил за %2 с');
      const explanations = stringsIn(objectModule, method(objectModule, 'ОписаниеКодаСостояния')).join('\n');
      for (const words of ['ключ API', 'слишком много запросов', 'провайдер модели', 'внутренняя ошибка']) {
        expect(explanations).to.contain(words);
      }
    });

    it('tells DNS, TLS, timeouts and refused connections apart, and keeps the codes for callers', () => {
      const stages = method(objectModule, 'ЭтапСбояСоединения');
      expect(stringsIn(objectModule, stages)).to.include.members([
        'dns',
        'tls',
        'timeout',
        'connection',
        'resolve',
        'ssl',
        'certificate',
      ]);
      const texts = stringsIn(objectModule, method(objectModule, 'ОписаниеСбояСоединения')).join('\n');
      for (const words of ['DNS', 'TLS', 'Файл сертификатов УЦ', 'прокси']) expect(texts).to.contain(words);
      expect(objectModule.code.slice(0, 20).join('\n')).to.match(
        /Перем ПоследнийКодСостояния Экспорт;\s+Перем ПоследнийКодОшибки Экспорт;/,
      );
    });

    it('explains errors by the gateway error.code, with «повторите через N с» from Retry-After', () => {
      const byCode = stringsIn(objectModule, method(objectModule, 'ОписаниеКодаОшибки'));
      for (const code of [
        'missing_api_key',
        'invalid_api_key',
        'model_not_found',
        'model_not_allowed',
        'rate_limit_exceeded',
        'budget_exceeded',
        'context_length_exceeded',
        'provider_not_configured',
        'upstream_error',
        'upstream_timeout',
        'unknown_route',
      ]) {
        expect(byCode, code).to.include(code);
      }
      const text = method(objectModule, 'ТекстОшибкиШлюза');
      expect(text.signature).to.equal('КодСостояния, Результат, ТекстОтвета, Заголовки = Неопределено');
      expect(text.source).to.contain('Число(ЗначениеЗаголовка(Заголовки, "Retry-After"))');
      expect(stringsIn(objectModule, text)).to.include("ru = 'Повторите через %1 с.'");
      expect(text.code).to.match(
        /Если КодСостояния = 301 Или КодСостояния = 302 Или КодСостояния = 307 Или КодСостояния = 308 Тогда/,
      );
      expect(text.source).to.contain('ЗначениеЗаголовка(Заголовки, "Location")');
      expect(method(objectModule, 'ЗначениеЗаголовка').code).to.contain('Если НРег(Заголовок.Ключ) = НРег(Имя) Тогда');
    });

    it('checks the connection step by step: address, network and TLS (/healthz), then the key (/v1/models)', () => {
      const check = method(objectModule, 'ПроверитьПодключение');
      expect(check.exported).to.equal(true);
      const literals = stringsIn(objectModule, check);
      expect(literals).to.include.members(['Успех, Этап, Сообщение', 'address', 'gateway', 'key', 'ok', '/healthz']);
      expect(check.code).to.match(
        /Попытка\s+Ответ = НовоеСоединение\(Адрес\)\.Получить\(Новый HTTPЗапрос\(Адрес\.Путь \+ ""\)\);/,
      );
      expect(check.code).to.contain('Результат.Этап = ЭтапСбояСоединения(Описание);');
      expect(check.code).to.contain('Модели = СписокМоделей();');
      expect(check.code).to.contain(
        'Результат.Этап = ?(ПоследнийКодСостояния = 401 Или ПоследнийКодСостояния = 403, "", "");',
      );
      const button = method(formModule, 'ПроверитьПодключение');
      expect(button.code).to.contain('Проверка = ПроверитьПодключениеНаСервере();');
      expect(button.code).to.contain('ЭтотОбъект.ТекущийЭлемент = Элементы.КлючAPI;');
      expect(method(formModule, 'ПроверитьПодключениеНаСервере').code).to.contain(
        'РеквизитФормыВЗначение("").ПроверитьПодключение()',
      );
    });

    it('exports files and vectors: СпроситьПоФайлу, СообщениеСФайлом and Эмбеддинги', () => {
      const signatures: Record<string, string> = {
        СпроситьПоФайлу: 'Знач Текст, Знач ДанныеФайла, Знач ИмяФайла, Знач СистемныйПромпт = "", Знач Модель = ""',
        СообщениеСФайлом: 'Знач Текст, Знач ДанныеФайла, Знач ИмяФайла, Знач ТипФайла = ""',
        Эмбеддинги: 'Знач Тексты, Знач МодельЭмбеддингов = "Embeddings"',
      };
      for (const [name, signature] of Object.entries(signatures)) {
        const found = method(objectModule, name);
        expect(found, name).to.include({ exported: true, kind: 'Функция' });
        expect(found.signature.replace(/\s+/g, ' '), name).to.equal(signature);
      }
      expect(method(objectModule, 'СообщениеСФайлом').code).to.match(
        /Если ТипЗнч\(ДанныеФайла\) <> Тип\(""\) Тогда\s+ВызватьИсключение/,
      );
      expect(method(objectModule, 'СообщениеСФайлом').source).to.contain(
        'Если СтрНачинаетсяС(ТипФайла, "image/") Тогда',
      );
      expect(method(objectModule, 'ТипФайлаПоИмени').source).to.contain('"application/octet-stream"');
    });

    it('registers as a БСП additional processing with a form command, built without calling БСП', () => {
      const info = method(objectModule, 'СведенияОВнешнейОбработке');
      expect(info.exported).to.equal(true);
      expect(info.parameters).to.deep.equal([]);
      const keys = [...info.source.matchAll(/Сведения\.Вставить\("([^"]+)"/g)].map((match) => match[1]);
      expect(keys).to.deep.equal([
        'Вид',
        'Назначение',
        'Наименование',
        'Версия',
        'БезопасныйРежим',
        'Информация',
        'ВерсияБСП',
        'ОпределитьНастройкиФормы',
        'Команды',
        'Разрешения',
      ]);
      expect(info.source).to.contain('Сведения.Вставить("Вид", "ДополнительнаяОбработка");');
      expect(info.source).to.contain('Сведения.Вставить("БезопасныйРежим", Истина);');
      const columns = [...info.source.matchAll(/Команды\.Колонки\.Добавить\("([^"]+)"/g)].map((match) => match[1]);
      expect(columns).to.deep.equal([
        'Представление',
        'Идентификатор',
        'Использование',
        'ПоказыватьОповещение',
        'Модификатор',
        'Скрыть',
        'ЗаменяемыеКоманды',
      ]);
      expect(info.source).to.contain('Команда.Использование = "ОткрытиеФормы";');
      expect(info.code).to.contain('Сведения.Вставить("", РазрешенияНаШлюз());');
    });

    it('asks БСП for the gateway host permission only where БСП exists, so the module compiles without it', () => {
      // Names of БСП common modules must never be code: a configuration without БСП would not compile them.
      const bsp =
        /(?<![\p{L}\p{N}_.])(ДополнительныеОтчетыИОбработки|ДополнительныеОтчетыИОбработкиКлиентСервер|РаботаВБезопасномРежиме|ОбщегоНазначения|ОбщегоНазначенияКлиентСервер|ОбщегоНазначенияКлиент|ДлительныеОперации|СтандартныеПодсистемыСервер)(?![\p{L}\p{N}_])/u;
      for (const module of [objectModule, formModule]) expect(module.code.join('\n')).not.to.match(bsp);
      const permissions = method(objectModule, 'РазрешенияНаШлюз');
      expect(permissions.source).to.match(
        /Если Метаданные\.ОбщиеМодули\.Найти\("РаботаВБезопасномРежиме"\) = Неопределено Тогда\s+Возврат Разрешения;/,
      );
      expect(permissions.source).to.contain(
        '"РаботаВБезопасномРежиме.РазрешениеНаИспользованиеИнтернетРесурса(Протокол, Адрес.Хост, Адрес.Порт, Описание)"',
      );
      expect(permissions.code).to.contain('Адрес = РазобратьАдресСервера(АдресШлюзаДляРегистрации());');
      const address = method(objectModule, 'АдресШлюзаДляРегистрации');
      expect(address.code).to.match(/^[^\n]*\n\s*Если ПравоДоступа\("", Метаданные\) Тогда/);
      // The registering administrator's saved address, under the form's own settings key.
      const formKey = /Возврат "([^"]+)";/.exec(method(formModule, 'КлючОбъектаНастроек').source)?.[1];
      expect(address.source).to.contain(`ХранилищеОбщихНастроек.Загрузить("${formKey}", "Настройки")`);
    });

    it('keeps HTTP out of every form: only the object module opens connections', () => {
      expect(objectModule.code.join('\n')).to.contain('Новый HTTPСоединение');
      expect(formModule.code.join('\n')).not.to.match(/HTTPСоединение|HTTPЗапрос|ЗащищенноеСоединение/);
    });

    it('escapes text before adding Markdown tags and links only http(s) addresses', () => {
      const escaper = method(objectModule, 'ЭкранироватьHTML');
      expect(escaper.code.split('\n').filter((line) => line.includes('СтрЗаменить')).length).to.equal(5);
      expect(stringsIn(objectModule, escaper)).to.deep.equal([
        '&',
        '&amp;',
        '<',
        '&lt;',
        '>',
        '&gt;',
        '"',
        '&quot;',
        "'",
        '&#39;',
      ]);
      // The first replacement must be '&', or the entities of the others would be escaped again.
      const markdown = method(objectModule, 'МаркдаунВHTML');
      expect(markdown.code).to.match(/Строка = СокрЛП\(ЭкранироватьHTML\(ИсходнаяСтрока\)\);/);
      expect(markdown.code).to.match(/Код\.Добавить\(ЭкранироватьHTML\(ИсходнаяСтрока\)\);/);
      const link = method(objectModule, 'СсылкаВHTML');
      expect(stringsIn(objectModule, link)).to.include.members(['https://', 'http://']);
      expect(objectModule.strings.map((literal) => literal.value).join('\n')).not.to.match(/<script|javascript:/i);
    });
  });

  describe('object module: Markdown the models write', () => {
    const markdown = () => method(objectModule, 'МаркдаунВHTML');

    it('keeps the numbers of numbered lists, "1." and "1)" alike', () => {
      const kind = method(objectModule, 'ВидЭлементаСписка');
      expect(kind.parameters).to.deep.equal(['Строка', 'ТекстЭлемента', 'Номер']);
      expect(kind.source).to.contain('Сред(Строка, Цифр + 1, 2) = ". " Или Сред(Строка, Цифр + 1, 2) = ") "');
      expect(kind.code).to.contain('Номер = Число(Лев(Строка, Цифр));');
      const add = method(objectModule, 'ДобавитьЭлементСписка');
      expect(add.source).to.contain('Если Вид = "ol" И Номер <> 1 Тогда');
      expect(add.source).to.contain('Части.Добавить(СтрШаблон("<ol start=""%1"">", Формат(Номер, "ЧН=0; ЧГ=0")));');
    });

    it('reads indentation before trimming, for continuation lines and nested lists', () => {
      const lines = markdown()
        .code.split('\n')
        .map((line) => line.trim());
      const indent = lines.indexOf('Отступ = ШиринаОтступа(ИсходнаяСтрока);');
      const trimmed = lines.indexOf('Строка = СокрЛП(ЭкранироватьHTML(ИсходнаяСтрока));');
      expect(indent).to.be.greaterThan(0);
      expect(indent).to.be.lessThan(trimmed);
      expect(markdown().code).to.match(
        /ИначеЕсли Списки\.Количество\(\) > 0 И \(Отступ > 0 Или Не ПослеПустойСтроки\) Тогда\s+Части\.Добавить\("" \+ ИнлайнВHTML\(Строка\)\);/,
      );
      // A blank line alone does not end a list: models separate items with them.
      expect(markdown().code).to.match(
        /Если Строка = "" Тогда\s+ЗавершитьАбзац\(Части, Абзац\);\s+ПослеПустойСтроки = Истина;\s+Продолжить;/,
      );
      const add = method(objectModule, 'ДобавитьЭлементСписка');
      expect(add.code).to.match(
        /Пока Списки\.Количество\(\) > 0 И Списки\[Списки\.ВГраница\(\)\]\.Отступ > Отступ Цикл/,
      );
      expect(add.code).to.contain('Списки.Добавить(Новый Структура("", Вид, Отступ));');
      const width = method(objectModule, 'ШиринаОтступа');
      expect(width.code).to.contain('ИначеЕсли Символ = Символы.Таб Тогда');
      // An item stays open until the next one, so a nested list lands inside it.
      expect(stringsIn(objectModule, add)).to.include('</li><li>');
      expect(stringsIn(objectModule, method(objectModule, 'ЗакрытьСписок'))).to.include('</li></');
    });

    it('renders rules and GFM tables, the cells escaped with the rest of the line', () => {
      expect(markdown().code).to.match(
        /Если ЭтоРазделитель\(Строка\) Тогда[\s\S]*Части\.Добавить\(""\);\s+ИначеЕсли Уровень > 0/,
      );
      expect(stringsIn(objectModule, markdown())).to.include('<hr>');
      expect(stringsIn(objectModule, method(objectModule, 'ЭтоРазделитель'))).to.include('-*_');
      // The table rows are the escaped, trimmed lines.
      expect(markdown().code).to.match(/Если СтрНачинаетсяС\(Строка, ""\) Тогда[\s\S]*?Таблица\.Добавить\(Строка\);/);
      const table = method(objectModule, 'ЗавершитьТаблицу');
      expect(stringsIn(objectModule, table)).to.include.members(['<table>', '</table>', 'th', 'td']);
      expect(table.code).to.contain('Если Таблица.Количество() < 2 Или Не ЭтоРазделительТаблицы(Таблица[1]) Тогда');
      expect(method(objectModule, 'ЯчейкиТаблицы').code).to.contain('ИнлайнВHTML(СокрЛП(Ячейка))');
      expect(method(objectModule, 'ЭтоРазделительТаблицы').code).to.contain('СтрНайти(Строка, "") > 0');
    });
  });

  describe('form module', () => {
    it('puts a compilation directive on every procedure and function', () => {
      for (const candidate of formModule.methods) {
        expect(DIRECTIVES, `${candidate.name} line ${candidate.startLine}`).to.include(candidate.directive);
      }
    });

    it('has a handler with the right directive and parameters for every event and command of Form.xml', () => {
      const formXml = readXml(form.form);
      const bindings: Array<{ handler: string; kind: string }> = [];
      for (const events of descendants(formXml).filter((element) => element.name === 'Events')) {
        for (const event of childrenNamed(events, 'Event')) {
          bindings.push({ handler: event.text, kind: event.attributes.name as string });
        }
      }
      for (const command of childrenNamed(child(formXml, 'Commands'), 'Command')) {
        bindings.push({ handler: child(command, 'Action').text, kind: 'Command' });
      }
      expect(bindings.length).to.be.greaterThan(10);
      for (const { handler, kind } of bindings) {
        const expected = HANDLERS[kind];
        expect(expected, `no rule for event ${kind}`).not.to.equal(undefined);
        const found = formModule.methods.find((candidate) => candidate.name === handler);
        expect(found, `${kind} → ${handler}`).not.to.equal(undefined);
        expect(found?.kind, handler).to.equal('Процедура');
        expect(found?.directive, handler).to.equal(expected?.directive);
        expect(found?.parameters.length, handler).to.equal(expected?.parameters);
      }
    });

    it('calls only exported object-module methods on the processor object', () => {
      const exported = new Set(
        objectModule.methods.filter((candidate) => candidate.exported).map((found) => found.name),
      );
      const calls = [...formModule.code.join('\n').matchAll(/Обработка\.([\p{L}_][\p{L}\p{N}_]*)\(/gu)].map(
        (match) => match[1] as string,
      );
      expect(calls.length).to.be.greaterThan(3);
      for (const call of calls) expect(exported.has(call), call).to.equal(true);
    });

    it('runs server procedures only from server context or a client handler, never from &НаСервереБезКонтекста', () => {
      const serverOnly = new Set(
        formModule.methods.filter((candidate) => candidate.directive === '&НаСервере').map((found) => found.name),
      );
      for (const candidate of formModule.methods.filter((found) => found.directive === '&НаСервереБезКонтекста')) {
        for (const name of serverOnly) expect(candidate.code, candidate.name).not.to.match(new RegExp(`\\b${name}\\(`));
      }
    });

    it('never assigns to a form property by a bare name (write ЭтотОбъект.X when the form is meant)', () => {
      const assigned: string[] = [];
      formModule.code.forEach((line, index) => {
        const target = /^\s*([\p{L}_][\p{L}\p{N}_]*)\s*=(?!=)/u.exec(line)?.[1];
        if (target !== undefined && FORM_PROPERTIES.includes(target))
          assigned.push(`line ${index + 1}: ${line.trim()}`);
      });
      expect(assigned).to.deep.equal([]);
      // Nor as a loop variable or a parameter, which would shadow the property just the same.
      for (const candidate of formModule.methods) {
        for (const parameter of candidate.parameters) expect(FORM_PROPERTIES, candidate.name).not.to.include(parameter);
      }
      const loops = [...formModule.code.join('\n').matchAll(/Для\s+(?:Каждого\s+)?([\p{L}_][\p{L}\p{N}_]*)/gu)];
      for (const loop of loops) expect(FORM_PROPERTIES).not.to.include(loop[1]);
    });

    it('reads and writes ХранилищеОбщихНастроек only with the right to save user data, and never loses a reply to it', () => {
      expect(method(formModule, 'МожноСохранятьНастройки').source).to.contain(
        'ПравоДоступа("СохранениеДанныхПользователя", Метаданные)',
      );
      for (const name of ['ЗагрузитьНастройки', 'СохранитьНастройки']) {
        expect(method(formModule, name).code, name).to.match(
          /^[^\n]*\n\s*Если Не МожноСохранятьНастройки\(\) Тогда\s+Возврат;\s+КонецЕсли;/,
        );
      }
      const storageCalls = formModule.code.filter((line) => line.includes('ХранилищеОбщихНастроек.'));
      expect(storageCalls).to.have.length(2);
      expect(method(formModule, 'СохранитьНастройки').code).to.match(
        /Попытка\s+ХранилищеОбщихНастроек\.Сохранить\([^\n]*\s+Исключение\s+ЗаписьЖурналаРегистрации/,
      );
      expect(method(formModule, 'ПриСозданииНаСервере').code).to.contain(
        'Элементы.СохранитьКлюч.Видимость = МожноСохранятьНастройки();',
      );
    });

    it('saves settings when the form closes or a setting changes, not on the way of a reply', () => {
      for (const name of ['НачатьОтветНаСервере', 'ПроверитьОтветНаСервере', 'ЗавершитьОтвет', 'НовыйЧатНаСервере']) {
        expect(method(formModule, name).code, name).not.to.contain('СохранитьНастройки()');
      }
      expect(method(formModule, 'ПриЗакрытии').code).to.contain('ЗакрытьНаСервере();');
      expect(method(formModule, 'ЗакрытьНаСервере').code).to.contain('СохранитьНастройки();');
      expect(method(formModule, 'НастройкаПриИзменении').code).to.contain('СохранитьНастройки();');
      const formXml = readXml(form.form);
      const onChange = new Map<string, string>();
      for (const field of descendants(formXml).filter((element) => /^(InputField|CheckBoxField)$/.test(element.name))) {
        const event = descendants(field).find(
          (element) => element.name === 'Event' && element.attributes.name === 'OnChange',
        );
        onChange.set(child(field, 'DataPath').text, event?.text ?? '');
      }
      for (const [path, handler] of onChange) {
        if (path.startsWith('Объект.') || path === 'СистемныйПромпт') {
          expect(handler, path).to.equal('НастройкаПриИзменении');
        }
      }
    });

    it('does not keep an empty answer: it explains it, and sends only the capped history', () => {
      expect(method(formModule, 'НачатьОтветНаСервере').code).to.contain(
        'Обработка.НачатьОтвет(Обработка.ПоследниеСообщения(Сообщения))',
      );
      const finish = method(formModule, 'ЗавершитьОтвет');
      expect(finish.code).to.contain('ОшибкаДиалога = Обработка.ОшибкаОтвета(Ответ);');
      expect(finish.code).to.match(
        /Если ПустаяСтрока\(Текст\) Тогда\s+ОтказатьсяОтОтвета\(Обработка\);\s+Возврат;\s+КонецЕсли;\s+Реплика = История\.Добавить\(\);/,
      );
      // The unanswered question goes back to the message field rather than staying in the history.
      const refuse = method(formModule, 'ОтказатьсяОтОтвета');
      expect(refuse.code).to.contain('Промпт = История[Количество - 1].Содержание;');
      expect(refuse.code).to.contain('История.Удалить(Количество - 1);');
      const explained = stringsIn(objectModule, method(objectModule, 'ОшибкаОтвета')).join('\n');
      for (const status of ['failed', 'incomplete', 'cancelled', 'completed']) expect(explained).to.contain(status);
      expect(method(objectModule, 'ОшибкаОтвета').code).to.contain('ЕстьВызовФункции(Ответ)');
    });

    it('sends in the background and polls with ПодключитьОбработчикОжидания in short server calls', () => {
      const send = method(formModule, 'Отправить');
      expect(send.code).to.match(
        /Если ЗначениеЗаполнено\(ИдентификаторОтвета\) Тогда\s+ОстановитьОтвет\(\);\s+Возврат;/,
      );
      const ask = method(formModule, 'ОтправитьВопрос');
      expect(ask.code).to.match(
        /Если НачатьОтветНаСервере\(\) Тогда\s+ПодключитьОбработчикОжидания\("", ИнтервалОпроса\(\), Ложь\);/,
      );
      expect(send.code).to.contain('ОтправитьВопрос();');
      // The form never waits for the model: no synchronous chat call is left in it.
      expect(formModule.code.join('\n')).not.to.match(/ОтправитьСообщения|Спросить\(/);
      // Every idle handler named is a client procedure of the form without parameters.
      const idle = [
        ...formModule.methods
          .flatMap((found) => found.source.split('\n'))
          .join('\n')
          .matchAll(/(?:Подключить|Отключить)ОбработчикОжидания\("([^"]+)"/g),
      ].map((match) => match[1] as string);
      expect(new Set(idle)).to.deep.equal(new Set(['ПроверитьОтвет']));
      const handler = method(formModule, 'ПроверитьОтвет');
      expect(handler).to.include({ kind: 'Процедура', directive: '&НаКлиенте' });
      expect(handler.parameters).to.deep.equal([]);
      expect(handler.code).to.contain('ПроверитьОтветНаСервере();');
      expect(handler.code).to.match(
        /Если Не ЗначениеЗаполнено\(ИдентификаторОтвета\) Тогда\s+ОтключитьОбработчикОжидания/,
      );
      expect(codeOf(formModule, 'ИнтервалОпроса')).to.match(/Возврат 1;/);
      // One short request per poll: the state of the response, nothing that waits for the model.
      const poll = method(formModule, 'ПроверитьОтветНаСервере');
      expect(poll.directive).to.equal('&НаСервере');
      expect([...poll.code.matchAll(/Обработка\.([\p{L}]+)\(/gu)].map((match) => match[1])).to.deep.equal([
        'СостояниеОтвета',
        'ОтветЗавершен',
        'ТекстОтвета',
      ]);
      expect(poll.code).to.match(/Попытка\s+Ответ = Обработка\.СостояниеОтвета\(ИдентификаторОтвета\);\s+Исключение/);
    });

    it('turns «Отправить» into «Остановить» while the model answers, which cancels on the gateway', () => {
      const waiting = method(formModule, 'ПоказатьОжиданиеОтвета');
      expect(stringsIn(formModule, waiting)).to.include.members(["ru = 'Остановить'", "ru = 'Отправить'"]);
      expect(waiting.code).to.contain('Элементы.Отправить.Заголовок = НСтр("");');
      expect(method(formModule, 'НачатьОтветНаСервере').code).to.contain('ПоказатьОжиданиеОтвета(Истина);');
      expect(method(formModule, 'ОстановитьОтветНаСервере').code).to.match(
        /Попытка\s+Ответ = Обработка\.ОтменитьОтвет\(ИдентификаторОтвета\);/,
      );
      expect(method(formModule, 'ОстановитьОтвет').code).to.match(
        /ОтключитьОбработчикОжидания\(""\);\s+ОстановитьОтветНаСервере\(\);/,
      );
    });

    it('cancels the running response when the form closes, except while the application exits', () => {
      const close = method(formModule, 'ПриЗакрытии');
      expect(close.code).to.match(
        /ОтключитьОбработчикОжидания\(""\);\s+Если ЗавершениеРаботы = Истина Тогда\s+Возврат;\s+КонецЕсли;\s+ЗакрытьНаСервере\(\);/,
      );
      const server = method(formModule, 'ЗакрытьНаСервере');
      expect(server.code).to.match(
        /Если ЗначениеЗаполнено\(ИдентификаторОтвета\) Тогда\s+Попытка\s+РеквизитФормыВЗначение\(""\)\.ОтменитьОтвет\(ИдентификаторОтвета\);/,
      );
      expect(server.code).to.contain('СохранитьНастройки();');
    });

    it('shows errors in the dialog with «Повторить», scrolled to the newest reply', () => {
      // No warning window for a failed send, poll or stop: the error goes into the dialog.
      for (const name of ['Отправить', 'ПроверитьОтвет', 'ОстановитьОтвет']) {
        expect(method(formModule, name).code, name).not.to.contain('ПоказатьПредупреждение');
      }
      expect(method(formModule, 'НачатьОтветНаСервере').code).to.match(
        /Исключение[\s\S]*ОшибкаДиалога = КраткоеПредставлениеОшибки\(ИнформацияОбОшибке\(\)\);\s+ОбновитьДиалогHTML\(Обработка\);\s+Возврат Ложь;/,
      );
      expect(method(formModule, 'ЗавершитьОтвет').code).to.contain('ОшибкаДиалога = Обработка.ОшибкаОтвета(Ответ);');
      const page = method(formModule, 'ОбновитьДиалогHTML');
      const literals = stringsIn(formModule, page);
      expect(literals).to.include('<p><a href="#retry">%1</a></p>');
      expect(page.code).to.contain('Обработка.МаркдаунВHTML(ОшибкаДиалога)'); // escaped like any text
      const click = method(formModule, 'ДиалогHTMLПриНажатии');
      expect(click.source).to.contain('ИначеЕсли СтрЗаканчиваетсяНа(Ссылка, "#retry") Тогда');
      expect(click.code).to.contain('ОтправитьВопрос();');
      // One fixed script, the scroll to the bottom; model text never reaches a script.
      const scripts = literals.filter((literal) => /<script/i.test(literal));
      expect(scripts).to.deep.equal([
        '<script>window.onload=function(){window.scrollTo(0,document.body.scrollHeight);};</script>',
      ]);
      expect(objectModule.strings.map((literal) => literal.value).join('\n')).not.to.match(/<script|javascript:/i);
      expect(method(formModule, 'ОтправитьВопрос').code).to.contain('ЭтотОбъект.ТекущийЭлемент = Элементы.Промпт;');
    });

    it('asks before «Новый чат» wipes a dialog, without a modal call', () => {
      const wipe = method(formModule, 'НовыйЧат');
      expect(wipe.code).to.match(/ПоказатьВопрос\(Новый ОписаниеОповещения\("", ЭтотОбъект\),/);
      expect(wipe.source).to.contain('Новый ОписаниеОповещения("НовыйЧатПослеВопроса", ЭтотОбъект)');
      expect(wipe.code).to.contain('РежимДиалогаВопрос.ДаНет');
      const after = method(formModule, 'НовыйЧатПослеВопроса');
      expect(after).to.include({ exported: true, directive: '&НаКлиенте' });
      expect(after.parameters).to.have.length(2);
      expect(after.code).to.match(/Если Результат <> КодВозвратаДиалога\.Да Тогда\s+Возврат;/);
    });

    it('uses no modal or blocking client calls (they are refused on the web client without modality)', () => {
      const client = formModule.methods.filter((found) => found.directive === '&НаКлиенте');
      for (const found of client) {
        expect(found.code, found.name).not.to.match(
          /(?<![\p{L}])(Вопрос|Предупреждение|ОткрытьФормуМодально|ОткрытьЗначение|ВвестиСтроку|ВвестиЧисло)\(/u,
        );
      }
    });

    it('saves settings per user in ХранилищеОбщихНастроек, the API key only when "save key" is ticked', () => {
      const save = method(formModule, 'СохранитьНастройки');
      expect(save.directive).to.equal('&НаСервере');
      expect(save.code).to.match(/ХранилищеОбщихНастроек\.Сохранить\(КлючОбъектаНастроек\(\), "", Настройки\)/);
      expect(enclosingConditions(save, /Настройки\.Вставить\("", Объект\.КлючAPI\)/)).to.deep.equal(['СохранитьКлюч']);
      expect(save.code.match(/КлючAPI/g)).to.have.length(1);
      expect(enclosingConditions(save, /Настройки\.Вставить\("", Объект\.ПроксиПароль\)/)).to.deep.equal([
        'СохранитьКлюч',
      ]);
      const load = method(formModule, 'ЗагрузитьНастройки');
      expect(load.code).to.match(/ХранилищеОбщихНастроек\.Загрузить\(КлючОбъектаНастроек\(\), ""\)/);
      expect(method(formModule, 'ПриСозданииНаСервере').code).to.contain('ЗагрузитьНастройки();');
      const saved = (target: BslMethod) => stringsIn(formModule, target).filter((value) => /^[\p{Lu}]/u.test(value));
      for (const key of [
        'АдресСервера',
        'Модель',
        'Температура',
        'Таймаут',
        'ПроверятьСертификат',
        'ИспользоватьСистемныйПрокси',
        'МаксимумСообщений',
        'ФайлСертификатовУЦ',
        'ПроксиСервер',
        'ПроксиПорт',
        'ПроксиПользователь',
        'ПроксиНеДляЛокальныхАдресов',
      ]) {
        expect(saved(save), key).to.include(key);
      }
    });

    it('fills the model list from the gateway, the conversation through МаркдаунВHTML', () => {
      expect(codeOf(formModule, 'ОбновитьМоделиНаСервере')).to.contain(
        'Модели = МоделиДляЧата(Обработка.ОписанияМоделей());',
      );
      // The kind the gateway sends decides, not the name: no "embed" filter is left.
      expect(method(formModule, 'МоделиДляЧата').source).to.contain(
        'Если Описание.Вид = "chat" Или Описание.Вид = "" Тогда',
      );
      expect(codeOf(formModule, 'ЗаполнитьСписокМоделей')).to.contain('Элементы.Модель.СписокВыбора');
      expect(formModule.strings.map((literal) => literal.value)).not.to.include('embed');
      const page = method(formModule, 'ОбновитьДиалогHTML');
      expect(page.code).to.contain('Обработка.МаркдаунВHTML(Реплика.Содержание)');
      const send = method(formModule, 'НачатьОтветНаСервере');
      expect(send.code).to.match(/Для Каждого Реплика Из История Цикл/);
    });
  });
});
