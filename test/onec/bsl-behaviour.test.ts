import { expect } from 'chai';
import { BslRunError, BslRunner, type BslStructure, bslMap } from './lib/bsl-run.ts';
import { dumpLayout, readText } from './lib/dump.ts';

/*
 * The object module's text functions run, not just read: lib/bsl-run.ts interprets the subset of
 * BSL they use, so the Markdown renderer meets the output models really write. The interpreter is
 * not the platform; what it cannot prove is listed in onec/README.md, section 8.
 */

const runner = new BslRunner(readText(dumpLayout().objectModule));
const html = (markdown: string) => runner.call('МаркдаунВHTML', markdown) as string;
const oneLine = (markdown: string) => html(markdown).replaceAll('\n', '');

describe('onec: the BSL interpreter keeps the language rules the module relies on', () => {
  const module = new BslRunner(
    [
      'Функция Внешняя()',
      '\tА = 1; Б = 1;',
      '\tИзменить(А, Б);',
      '\tВозврат СтрШаблон("%1 %2", А, Б);',
      'КонецФункции',
      'Процедура Изменить(ПоСсылке, Знач ПоЗначению)',
      '\tПоСсылке = 2; ПоЗначению = 2;',
      'КонецПроцедуры',
      'Функция Поле()',
      '\tС = Новый Структура("Есть", 1);',
      '\tВозврат С.Нет;',
      'КонецФункции',
      'Функция Неизвестная()',
      '\tВозврат НетТакой(1);',
      'КонецФункции',
    ].join('\n'),
  );

  it('parses every statement and expression of both modules (a stricter syntax check than block balance)', () => {
    for (const path of [dumpLayout().objectModule, dumpLayout().forms[0]?.module as string]) {
      expect(() => new BslRunner(readText(path)), path).not.to.throw();
    }
    expect(() => new BslRunner('Процедура А()\n\tБ = (1 + ;\nКонецПроцедуры')).to.throw(BslRunError, /line 2/);
  });

  it('passes parameters by reference unless Знач', () => {
    expect(module.call('Внешняя')).to.equal('2 1');
  });

  it('refuses a missing Структура field and an unknown function, as the platform would', () => {
    expect(() => module.call('Поле')).to.throw(BslRunError, /Поле объекта не обнаружено/);
    expect(() => module.call('Неизвестная')).to.throw(BslRunError, /не определена/);
  });
});

describe('onec: the object module run by an interpreter of its BSL subset', () => {
  describe('МаркдаунВHTML on typical model output', () => {
    it('keeps a numbered list whole across indented explanations and blank lines', () => {
      const answer =
        '1. **Откройте** журнал\n   Он в разделе «Банк и касса».\n\n2. Выберите документ\n3. Нажмите «Провести»';
      expect(oneLine(answer)).to.equal(
        '<ol><li><b>Откройте</b> журнал<br>Он в разделе «Банк и касса».</li><li>Выберите документ</li><li>Нажмите «Провести»</li></ol>',
      );
    });

    it('continues the numbering after a code block with <ol start>, for "1." and "1)" alike', () => {
      expect(oneLine('1) Раз\n```\nА = 1;\n```\n2) Два')).to.equal(
        '<ol><li>Раз</li></ol><pre><code>А = 1;</code></pre><ol start="2"><li>Два</li></ol>',
      );
    });

    it('nests lists by indentation, ordered inside unordered', () => {
      expect(oneLine('- Счета\n  1. 60\n  2. 62\n- Регистры\n    - накопления')).to.equal(
        '<ul><li>Счета<ol><li>60</li><li>62</li></ol></li><li>Регистры<ul><li>накопления</li></ul></li></ul>',
      );
    });

    it('ends a list at a paragraph after a blank line, and starts one right after a paragraph', () => {
      expect(oneLine('- а\n\nИтог')).to.equal('<ul><li>а</li></ul><p>Итог</p>');
      expect(oneLine('Шаги:\n- а')).to.equal('<p>Шаги:</p><ul><li>а</li></ul>');
    });

    it('renders GFM tables with escaped cells, and pipe lines without a separator as text', () => {
      expect(oneLine('| Счёт | Сумма |\n|:---|---:|\n| 60 | <b>1 200</b> |\n| 62 | **5** |')).to.equal(
        '<table><tr><th>Счёт</th><th>Сумма</th></tr><tr><td>60</td><td>&lt;b&gt;1 200&lt;/b&gt;</td></tr><tr><td>62</td><td><b>5</b></td></tr></table>',
      );
      expect(oneLine('| а | б |\n| в | г |')).to.equal('<p>| а | б |<br>| в | г |</p>');
    });

    it('renders rules, headings and quotes', () => {
      expect(oneLine('# Итог\n---\n* * *\n> цитата')).to.equal('<h1>Итог</h1><hr><hr><blockquote>цитата</blockquote>');
    });

    it('escapes markup and scripts, links only http(s), and keeps parentheses inside addresses', () => {
      expect(oneLine('<script>alert(1)</script>')).to.equal('<p>&lt;script&gt;alert(1)&lt;/script&gt;</p>');
      expect(oneLine('[вики](https://ru.wikipedia.org/wiki/Учёт_(бухгалтерия)) и [js](javascript:alert(1))')).to.equal(
        '<p><a href="https://ru.wikipedia.org/wiki/Учёт_(бухгалтерия)">вики</a> и [js](javascript:alert(1))</p>',
      );
      expect(oneLine('[примечание] см. [сайт](https://1c.ru)')).to.equal(
        '<p>[примечание] см. <a href="https://1c.ru">сайт</a></p>',
      );
      expect(oneLine('"кавычки" & \'апостроф\'')).to.equal('<p>&quot;кавычки&quot; &amp; &#39;апостроф&#39;</p>');
    });
  });

  describe('ПоследниеСообщения', () => {
    const message = (role: string, content: string) => bslMap({ role, content });
    const roles = (messages: unknown) =>
      (messages as Array<{ entries: Map<unknown, unknown> }>).map(
        (found) => `${found.entries.get('role')}:${found.entries.get('content')}`,
      );
    const dialog = [
      message('system', 'Ты бухгалтер'),
      ...Array.from({ length: 30 }, (_, index) => message(index % 2 === 0 ? 'user' : 'assistant', String(index))),
    ];

    it('keeps the system prompt and at most 20 others (МаксимумСообщений 0 means 20), starting with a question', () => {
      runner.attributes.set('максимумсообщений', 0);
      const kept = roles(runner.call('ПоследниеСообщения', dialog, 0));
      expect(kept[0]).to.equal('system:Ты бухгалтер');
      expect(kept).to.have.length(21);
      expect(kept[1]).to.equal('user:10');
      expect(kept.at(-1)).to.equal('assistant:29');
    });

    it('drops an answer that would open the history', () => {
      const kept = roles(runner.call('ПоследниеСообщения', dialog, 3));
      expect(kept).to.deep.equal(['system:Ты бухгалтер', 'user:28', 'assistant:29']);
    });
  });

  describe('network texts and addresses', () => {
    it('reads the gateway address: port, a path prefix, a pasted /v1', () => {
      const address = runner.call('РазобратьАдресСервера', ' https://gw.example.ru:8443/gigagate/v1/ ') as BslStructure;
      expect(['Хост', 'Порт', 'Путь', 'Защищенное'].map((field) => address.get(field))).to.deep.equal([
        'gw.example.ru',
        8443,
        '/gigagate',
        true,
      ]);
      const plain = runner.call('РазобратьАдресСервера', 'http://127.0.0.1') as BslStructure;
      expect([plain.get('Порт'), plain.get('Путь'), plain.get('Защищенное')]).to.deep.equal([80, '', false]);
      expect(() => runner.call('РазобратьАдресСервера', 'gw.example.ru')).to.throw(
        BslRunError,
        /https:\/\/ или http:\/\//,
      );
      expect(() => runner.call('РазобратьАдресСервера', 'https://gw:порт')).to.throw(BslRunError, /Неверный порт/);
    });

    it('names the failed step from the platform text', () => {
      const stage = (description: string) => runner.call('ЭтапСбояСоединения', description);
      expect(stage("Ошибка работы с Интернет: Couldn't resolve host name")).to.equal('dns');
      expect(stage('SSL connect error: certificate verify failed')).to.equal('tls');
      expect(stage('Ошибка работы с Интернет: Timeout was reached')).to.equal('timeout');
      expect(stage('Failed to connect to 10.0.0.5 port 8080: Connection refused')).to.equal('connection');
    });

    it('explains known error codes in Russian and leaves unknown ones to the HTTP status', () => {
      expect(runner.call('ОписаниеКодаОшибки', 'invalid_api_key')).to.equal('ключ API неверен');
      expect(runner.call('ОписаниеКодаОшибки', 'budget_exceeded')).to.contain('бюджет');
      expect(runner.call('ОписаниеКодаОшибки', 'something_new')).to.equal('');
      expect(runner.call('ОписаниеКодаСостояния', 429)).to.contain('слишком много запросов');
    });

    it('builds the error text from error.code, the status and Retry-After, whatever the header case', () => {
      runner.attributes.set('адрессервера', 'https://gw.example.ru');
      runner.attributes.set('таймаут', 0);
      const body = (code: string, message: string) =>
        bslMap({ error: bslMap({ message, type: 'rate_limit_error', param: undefined, code }) });
      expect(
        runner.call(
          'ТекстОшибкиШлюза',
          429,
          body('rate_limit_exceeded', 'Too many requests.'),
          '',
          bslMap({ 'retry-after': '7' }),
        ),
      ).to.equal('Шлюз ответил ошибкой 429 (слишком много запросов): Too many requests. Повторите через 7 с.');
      expect(runner.call('ТекстОшибкиШлюза', 401, body('invalid_api_key', 'Incorrect API key provided.'), '')).to.equal(
        'Шлюз ответил ошибкой 401 (ключ API неверен): Incorrect API key provided.',
      );
      expect(runner.call('ТекстОшибкиШлюза', 502, undefined, '<html>Bad Gateway</html>')).to.equal(
        'Шлюз ответил ошибкой 502 (провайдер модели ответил ошибкой): <html>Bad Gateway</html>',
      );
      expect(
        runner.call('ТекстОшибкиШлюза', 301, undefined, '', bslMap({ Location: 'https://gw.example.ru/' })),
      ).to.contain('перенаправляет на https://gw.example.ru/');
      expect(runner.call('ОписаниеСбояСоединения', 'timeout', 'Timeout was reached')).to.equal(
        'Шлюз https://gw.example.ru не ответил за 180 с. Timeout was reached',
      );
      expect(runner.call('ОписаниеСбояСоединения', 'connection', 'refused')).not.to.contain('180');
    });

    it('reads a background response: finished or not, its text, and why it is not whole', () => {
      const response = (fields: Record<string, unknown>) => bslMap(fields as never);
      expect(runner.call('ОтветЗавершен', response({ status: 'queued' }))).to.equal(false);
      expect(runner.call('ОтветЗавершен', response({ status: 'in_progress' }))).to.equal(false);
      expect(runner.call('ОтветЗавершен', response({ status: 'cancelled' }))).to.equal(true);
      expect(runner.call('ТекстОтвета', response({ status: 'in_progress', output_text: 'Нача' }))).to.equal('Нача');
      expect(runner.call('ОшибкаОтвета', response({ status: 'completed', output_text: 'Готово' }))).to.equal('');
      expect(
        runner.call(
          'ОшибкаОтвета',
          response({
            status: 'failed',
            output_text: '',
            error: bslMap({ code: 'server_error', message: 'GigaChat: 500' }),
          }),
        ),
      ).to.equal('Модель не смогла ответить: GigaChat: 500');
      const cut = (text: string) =>
        runner.call(
          'ОшибкаОтвета',
          response({
            status: 'incomplete',
            output_text: text,
            incomplete_details: bslMap({ reason: 'max_output_tokens' }),
          }),
        );
      expect(cut('')).to.contain('Ответ пуст: модель исчерпала лимит токенов');
      expect(cut('Оплата по')).to.equal('Ответ обрезан: модель исчерпала лимит токенов.');
      const call = response({ status: 'completed', output_text: '', output: [bslMap({ type: 'function_call' })] });
      expect(runner.call('ОшибкаОтвета', call)).to.contain('вызов функции');
      expect(() => runner.call('ИдентификаторОтвета', response({ status: 'queued' }))).to.throw(
        BslRunError,
        /без идентификатора/,
      );
    });

    it('picks the MIME type of a file from its last extension', () => {
      const type = (name: string) => runner.call('ТипФайлаПоИмени', name);
      expect(type('Счёт №15.v2.PDF')).to.equal('application/pdf');
      expect(type('скан.jpeg')).to.equal('image/jpeg');
      expect(type('выгрузка')).to.equal('application/octet-stream');
    });
  });
});
