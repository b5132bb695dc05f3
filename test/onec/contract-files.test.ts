import { expect } from 'chai';
import { gigaChatCompletion } from '../helpers/cassettes.ts';
import { startTestGateway, type TestGateway } from '../helpers/gateway.ts';
import { GeminiMock } from '../helpers/gemini-mock.ts';
import { GigaChatMock, sendJson } from '../helpers/gigachat-mock.ts';
import { method } from './lib/bsl.ts';
import { dumpLayout, fixture, fixtureBytes, readBsl } from './lib/dump.ts';

/*
 * Files and vectors from 1C: the bodies СпроситьПоФайлу (through СообщениеСФайлом) and Эмбеддинги
 * build, in onec/fixtures, checked against the BSL and replayed through the real gateway in front
 * of a local GigaChat and a local Gemini.
 */

const objectModule = readBsl(dumpLayout().objectModule);
const KEY = 'test-1c-key';
const HEADERS = {
  Accept: 'application/json',
  Authorization: `Bearer ${KEY}`,
  'Content-Type': 'application/json; charset=utf-8',
};

/** The keys one Соответствие of a method gets, `Имя.Вставить("…"`, in order. */
const insertedInto = (name: string, variable: string) =>
  [...method(objectModule, name).source.matchAll(new RegExp(`${variable}\\.Вставить\\("([^"]+)"`, 'g'))].map(
    (match) => match[1] as string,
  );
const read = (name: string) =>
  [...method(objectModule, name).source.matchAll(/\.Получить\("([^"]+)"\)/g)].map((match) => match[1] as string);
const path = (name: string) => /ВыполнитьЗапрос\("POST", "([^"]+)"/.exec(method(objectModule, name).source)?.[1];

const FILE_FIXTURES = { pdf: 'chat-file-pdf.request.json', image: 'chat-file-image.request.json' };

describe('onec: files and vectors from 1C (СпроситьПоФайлу, СообщениеСФайлом, Эмбеддинги)', () => {
  describe('the fixtures match the BSL source', () => {
    it('a file goes as a file part with file_data, an image as an image_url part, both data: URLs', () => {
      const pdf = fixture(FILE_FIXTURES.pdf).messages.at(-1);
      const image = fixture(FILE_FIXTURES.image).messages.at(-1);
      for (const message of [pdf, image]) {
        expect(message.role).to.equal('user');
        expect(Object.keys(message.content[0])).to.deep.equal(insertedInto('СообщениеСФайлом', 'ЧастьТекста'));
      }
      const parts = insertedInto('СообщениеСФайлом', 'ЧастьФайла');
      expect(parts).to.deep.equal(['type', 'image_url', 'type', 'file']);
      expect(Object.keys(image.content[1])).to.deep.equal(parts.slice(0, 2));
      expect(Object.keys(image.content[1].image_url)).to.deep.equal(insertedInto('СообщениеСФайлом', 'Картинка'));
      expect(Object.keys(pdf.content[1])).to.deep.equal(parts.slice(2));
      expect(Object.keys(pdf.content[1].file)).to.deep.equal(insertedInto('СообщениеСФайлом', 'Файл'));
      expect(pdf.content[1].file.file_data).to.match(/^data:application\/pdf;base64,[A-Za-z0-9+/]+=*$/);
      expect(image.content[1].image_url.url).to.match(/^data:image\/png;base64,[A-Za-z0-9+/]+=*$/);
      // Base64Строка wraps every 76 characters; the BSL removes the breaks.
      expect(method(objectModule, 'СообщениеСФайлом').source).to.contain(
        'СтрЗаменить(СтрЗаменить(Base64Строка(ДанныеФайла), Символы.ВК, ""), Символы.ПС, "")',
      );
      const types = method(objectModule, 'ТипФайлаПоИмени').source;
      expect(types).to.contain('Типы.Вставить("pdf", "application/pdf");');
      expect(types).to.contain('Типы.Вставить("png", "image/png");');
      for (const name of Object.values(FILE_FIXTURES)) {
        expect(fixtureBytes(name).toString('utf8')).to.equal(JSON.stringify(fixture(name)));
      }
      expect(path('СпроситьПоФайлу')).to.equal(undefined); // it goes through ОтправитьСообщения
      expect(method(objectModule, 'СпроситьПоФайлу').code).to.contain('ОтправитьСообщения(Сообщения, ДопПараметры)');
    });

    it('the embeddings body has the keys Эмбеддинги writes, and the answer is read by index', () => {
      const body = fixture('embeddings.request.json');
      expect(Object.keys(body)).to.deep.equal(insertedInto('Эмбеддинги', 'Тело'));
      expect(body.input).to.be.an('array').with.length(2);
      expect(path('Эмбеддинги')).to.equal('/v1/embeddings');
      expect(read('Эмбеддинги')).to.deep.equal(['data', 'index', 'embedding']);
      expect(method(objectModule, 'Эмбеддинги').code).to.contain('Векторы[Индекс] = Вектор;');
    });
  });

  describe('replayed through the real gateway', () => {
    let gigachat: GigaChatMock;
    let gemini: GeminiMock;
    let gateway: TestGateway;
    beforeEach(async () => {
      gigachat = await GigaChatMock.start();
      gemini = await GeminiMock.start();
      gateway = await startTestGateway({ ...gigachat.env(), ...gemini.env(), GATEWAY_API_KEYS: `buh:${KEY}` });
    });
    afterEach(async () => {
      await gateway.close();
      await gigachat.close();
      await gemini.close();
    });

    async function post(route: string, body: Buffer) {
      const response = await fetch(`${gateway.url}${route}`, { method: 'POST', headers: HEADERS, body });
      const text = new TextDecoder('utf-8', { fatal: true }).decode(await response.arrayBuffer());
      return { status: response.status, body: JSON.parse(text) };
    }
    /** A fixture with another model, as ДопПараметры' "model" makes it. */
    const withModel = (name: string, model: string) => Buffer.from(JSON.stringify({ ...fixture(name), model }));
    const [choices, message, content] = read('СодержаниеОтвета');
    const answerText = (answer: any) => answer[choices as string][0][message as string][content as string];

    for (const [kind, name] of Object.entries(FILE_FIXTURES)) {
      it(`GigaChat: the ${kind} is uploaded to GigaChat's storage and attached to the question`, async () => {
        gigachat.chat = (_body, response) =>
          sendJson(response, 200, gigaChatCompletion('Поставщик ООО «Ромашка», 12 000 руб.'));
        const answer = await post('/v1/chat/completions', fixtureBytes(name));
        expect(answer.status, JSON.stringify(answer.body)).to.equal(200);
        expect(answerText(answer.body)).to.equal('Поставщик ООО «Ромашка», 12 000 руб.');
        expect(gigachat.requestsTo('/api/v1/files')).to.have.length(1);
        const [stored] = [...gigachat.files.values()];
        const sent = fixture(name).messages.at(-1).content[1];
        const base64 = (kind === 'pdf' ? sent.file.file_data : sent.image_url.url).split(',')[1];
        expect(stored?.data.equals(Buffer.from(base64, 'base64'))).to.equal(true);
        const upstream = JSON.parse(gigachat.requestsTo('/api/v1/chat/completions')[0]?.body as string);
        const question = upstream.messages.at(-1);
        expect(question.content).to.equal('Кто поставщик и какая сумма к оплате?');
        expect(question.attachments).to.deep.equal([stored?.id]);
      });

      it(`Gemini: the ${kind} goes inline with its MIME type`, async () => {
        const answer = await post('/v1/chat/completions', withModel(name, 'gemini-2.5-flash'));
        expect(answer.status, JSON.stringify(answer.body)).to.equal(200);
        expect(answerText(answer.body)).to.be.a('string').and.not.equal('');
        const request = gemini.requestsFor('generateContent')[0];
        const parts = request?.body.contents.at(-1).parts;
        const inline = parts.find((part: any) => part.inlineData !== undefined)?.inlineData;
        expect(inline.mimeType).to.equal(kind === 'pdf' ? 'application/pdf' : 'image/png');
        expect(parts.some((part: any) => part.text === 'Кто поставщик и какая сумма к оплате?')).to.equal(true);
      });
    }

    for (const [provider, model] of [
      ['GigaChat', 'Embeddings'],
      ['Gemini', 'text-embedding-004'],
    ] as const) {
      it(`returns one vector per text, by index, from ${provider} (${model})`, async () => {
        const answer = await post('/v1/embeddings', withModel('embeddings.request.json', model));
        expect(answer.status, JSON.stringify(answer.body)).to.equal(200);
        const [data, index, embedding] = read('Эмбеддинги');
        const items = answer.body[data as string] as any[];
        expect(items).to.have.length(2);
        expect(items.map((item) => item[index as string]).sort()).to.deep.equal([0, 1]);
        for (const item of items) {
          expect(item[embedding as string]).to.be.an('array').that.is.not.empty;
          expect(item[embedding as string][0]).to.be.a('number');
        }
      });
    }
  });
});
