import { expect } from 'chai';
import { gigaChatCompletion } from '../helpers/cassettes.ts';
import { startTestGateway, type TestGateway } from '../helpers/gateway.ts';
import { GigaChatMock, sendJson } from '../helpers/gigachat-mock.ts';
import { fixture, fixtureBytes } from './lib/dump.ts';

// The older "1C + GigaChat through a FastAPI bridge" tutorial (shared seeds, 004): its 1C form posts
// {text, system_prompt, return_format} to /analyze/text with the 2-argument УстановитьТелоИзСтроки
// (a UTF-8 BOM may lead the body) and reads {success, result, error}.

const BOM = Buffer.from([0xef, 0xbb, 0xbf]);

/** The body exactly as the tutorial's form builds it (ЗаписатьJSON of a Структура), BOM first. */
function tutorialBody(fields: Record<string, unknown>): Buffer {
  return Buffer.concat([BOM, Buffer.from(JSON.stringify(fields, null, '\t'), 'utf8')]);
}

async function post(gateway: TestGateway, path: string, body: Buffer | string, headers: Record<string, string> = {}) {
  const response = await fetch(`${gateway.url}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body,
  });
  return { status: response.status, headers: response.headers, body: (await response.json()) as any };
}

describe('onec: the older tutorial protocol (POST /analyze/text, GET /health)', () => {
  let mock: GigaChatMock;
  let gateway: TestGateway;

  beforeEach(async () => {
    mock = await GigaChatMock.start();
    gateway = await startTestGateway(mock.env());
  });
  afterEach(async () => {
    await gateway.close();
    await mock.close();
  });
  const upstreamBodies = () => mock.requestsTo('/api/v1/chat/completions').map((request) => JSON.parse(request.body));

  describe('POST /analyze/text', () => {
    it("answers the tutorial form's BOM-prefixed Cyrillic body with the HTML page it shows", async () => {
      mock.chat = (_body, response) =>
        sendJson(response, 200, gigaChatCompletion('Стороны: ООО «ТехноПром» & <покупатель>'));
      // The tutorial form's own body (onec/fixtures), with the BOM its УстановитьТелоИзСтроки may add.
      const answer = await post(
        gateway,
        '/analyze/text',
        Buffer.concat([BOM, fixtureBytes('tutorial-analyze-text.request.json')]),
      );
      expect(answer.status).to.equal(200);
      expect(answer.headers.get('content-type')).to.equal('application/json; charset=utf-8');
      expect(answer.body.success).to.equal(true);
      expect(answer.body.error).to.equal(null);
      expect(answer.body.result).to.match(/^<html>\n<head><meta charset="utf-8"><\/head>/);
      expect(answer.body.result).to.contain(
        '<div style="white-space: pre-wrap;">Стороны: ООО «ТехноПром» &amp; &lt;покупатель&gt;</div>',
      );
      expect(upstreamBodies()).to.deep.equal([
        {
          model: 'GigaChat',
          messages: [
            { role: 'system', content: fixture('tutorial-analyze-text.request.json').system_prompt },
            { role: 'user', content: fixture('tutorial-analyze-text.request.json').text },
          ],
        },
      ]);
    });

    it('escapes markup in the answer so the HTML field runs no script', async () => {
      mock.chat = (_body, response) => sendJson(response, 200, gigaChatCompletion('<script>alert("x")</script>'));
      const answer = await post(gateway, '/analyze/text', tutorialBody({ text: 'Привет', return_format: 'html' }));
      expect(answer.body.result).not.to.contain('<script>');
      expect(answer.body.result).to.contain('&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;');
    });

    it('returns plain text by default and with return_format "text"', async () => {
      mock.chat = (_body, response) => sendJson(response, 200, gigaChatCompletion('<b>Ответ</b>'));
      for (const fields of [{ text: 'Вопрос' }, { text: 'Вопрос', return_format: 'text' }]) {
        const answer = await post(gateway, '/analyze/text', tutorialBody(fields));
        expect(answer.status).to.equal(200);
        expect(answer.body).to.deep.equal({ success: true, result: '<b>Ответ</b>', error: null, model: 'GigaChat' });
      }
    });

    it("uses the first revision's system prompt when none is sent, and none when it is empty", async () => {
      await post(gateway, '/analyze/text', tutorialBody({ text: 'Один', return_format: 'html' }));
      await post(gateway, '/analyze/text', tutorialBody({ text: 'Два', system_prompt: '' }));
      const [first, second] = upstreamBodies();
      expect(first.messages).to.deep.equal([
        { role: 'system', content: 'Ты - полезный ассистент. Отвечай кратко и по делу.' },
        { role: 'user', content: 'Один' },
      ]);
      expect(second.messages).to.deep.equal([{ role: 'user', content: 'Два' }]);
    });

    it('asks the model the form names, and GigaChat when the field is empty', async () => {
      await post(gateway, '/analyze/text', tutorialBody({ text: 'Раз', model: 'gigachat/GigaChat-2-Max' }));
      await post(gateway, '/analyze/text', tutorialBody({ text: 'Два', model: '' }));
      expect(upstreamBodies().map((body) => body.model)).to.deep.equal(['GigaChat-2-Max', 'GigaChat']);
    });

    describe('refuses bad input as the first revision did (HTTP 200, success false), with the OpenAI status in the body', () => {
      const cases: Array<{ name: string; body: Buffer | string; status: number; error: RegExp; code: string | null }> =
        [
          {
            name: 'missing text',
            body: tutorialBody({ system_prompt: 'x', return_format: 'html' }),
            status: 400,
            error: /Missing required parameter: 'text'/,
            code: null,
          },
          {
            name: 'empty text',
            body: tutorialBody({ text: '  \n', return_format: 'html' }),
            status: 400,
            error: /'text' is empty/,
            code: null,
          },
          {
            name: 'text of the wrong type',
            body: tutorialBody({ text: 42, return_format: 'html' }),
            status: 400,
            error: /Invalid type for 'text': expected string/,
            code: null,
          },
          {
            name: 'an unknown return_format',
            body: tutorialBody({ text: 'x', return_format: 'xml' }),
            status: 400,
            error: /Invalid value for 'return_format': 'xml'. Supported values are: 'text', 'html'/,
            code: null,
          },
          {
            name: 'an unknown model',
            body: tutorialBody({ text: 'x', model: 'llama-3', return_format: 'html' }),
            status: 404,
            error: /The model 'llama-3' does not exist/,
            code: 'model_not_found',
          },
        ];
      for (const { name, body, status, error, code } of cases) {
        it(name, async () => {
          const answer = await post(gateway, '/analyze/text', body);
          expect(answer.status).to.equal(200);
          expect(answer.body).to.have.keys('success', 'result', 'error', 'code', 'status');
          expect(answer.body).to.include({ success: false, result: '', code, status });
          expect(answer.body.error).to.match(error);
          expect(upstreamBodies()).to.deep.equal([]);
        });
      }
    });

    it('passes upstream failures on in the tutorial shape, with their OpenAI status in the body', async () => {
      mock.chat = (_body, response) =>
        sendJson(response, 429, { status: 429, message: 'Too Many Requests' }, { 'retry-after': '7' });
      const limited = await post(gateway, '/analyze/text', tutorialBody({ text: 'x', return_format: 'html' }));
      expect(limited.status).to.equal(200);
      expect(limited.headers.get('retry-after')).to.equal('7');
      expect(limited.body).to.include({ success: false, code: 'rate_limit_exceeded', status: 429 });

      mock.chat = (_body, response) => sendJson(response, 500, { status: 500, message: 'Internal Server Error' });
      const failed = await post(gateway, '/analyze/text', tutorialBody({ text: 'x', return_format: 'html' }));
      expect(failed.status).to.equal(200);
      expect(failed.body).to.include({ success: false, code: 'upstream_error', status: 502 });
      expect(failed.body.error).to.be.a('string').and.not.equal('');
    });
  });

  // The tutorial's later revision (nmitin/ai-1c-gigachat 96486dc): its form posts {text, system_prompt},
  // its server also took temperature and max_tokens, answered {result, model}, and failed with real
  // statuses and FastAPI's {"detail": …}; the form reads `result` after any 200.
  describe('POST /analyze/text, the later revision', () => {
    it('honours temperature and max_tokens and names the model in the answer', async () => {
      mock.chat = (_body, response) => sendJson(response, 200, gigaChatCompletion('Категория: жалоба'));
      const answer = await post(
        gateway,
        '/analyze/text',
        tutorialBody({
          text: 'Классифицируй обращение',
          system_prompt: 'Ты — классификатор.',
          temperature: 0.2,
          max_tokens: 300,
        }),
      );
      expect(answer.status).to.equal(200);
      expect(answer.body).to.include({ result: 'Категория: жалоба', model: 'GigaChat' });
      expect(upstreamBodies()[0]).to.deep.include({ temperature: 0.2, max_tokens: 300 });
    });

    it("uses the later revision's own system prompt when none is sent", async () => {
      await post(gateway, '/analyze/text', tutorialBody({ text: 'Привет' }));
      expect(upstreamBodies()[0].messages[0]).to.deep.equal({
        role: 'system',
        content: 'Ты — полезный ассистент. Отвечай кратко и по существу.',
      });
    });

    it('fails with the real status and a detail, so the form does not show a failure as an empty answer', async () => {
      const cases: Array<{ name: string; body: Buffer | string; status: number; detail: RegExp }> = [
        { name: 'missing text', body: tutorialBody({ system_prompt: 'x' }), status: 400, detail: /'text'/ },
        {
          name: 'temperature out of range',
          body: tutorialBody({ text: 'x', temperature: 3 }),
          status: 400,
          detail: /temperature/,
        },
        {
          name: 'max_tokens of 0',
          body: tutorialBody({ text: 'x', max_tokens: 0 }),
          status: 400,
          detail: /max_tokens/,
        },
        { name: 'a body that is not JSON', body: '{"text": "Привет",', status: 400, detail: /not valid JSON/ },
        { name: 'an empty body', body: '', status: 400, detail: /body is empty/ },
        {
          name: 'an unknown model',
          body: tutorialBody({ text: 'x', model: 'llama-3' }),
          status: 404,
          detail: /llama-3/,
        },
      ];
      for (const { name, body, status, detail } of cases) {
        const answer = await post(gateway, '/analyze/text', body);
        expect(answer.status, name).to.equal(status);
        expect(answer.body, name).to.have.keys('detail', 'code');
        expect(answer.body.detail, name).to.match(detail);
      }
      mock.chat = (_body, response) => sendJson(response, 500, { status: 500, message: 'Internal Server Error' });
      const failed = await post(gateway, '/analyze/text', tutorialBody({ text: 'x' }));
      expect(failed.status).to.equal(502);
      expect(failed.body).to.include({ code: 'upstream_error' });
      expect(upstreamBodies()).to.have.length(1); // only the last one reached GigaChat
    });

    it("reports health as the later revision did, beside the first one's fields", async () => {
      const body = (await (await fetch(`${gateway.url}/health`)).json()) as any;
      expect(body).to.include({ status: 'ok', gigachat: true, token_valid: true, message: 'Сервис работает' });
    });
  });

  describe('with client keys configured', () => {
    let secured: TestGateway;
    beforeEach(async () => {
      secured = await startTestGateway({ ...mock.env(), GATEWAY_API_KEYS: 'buh:key-for-1c' });
    });
    afterEach(async () => secured.close());

    it("asks the tutorial form for the bearer key too, answering in its revision's shape so the form shows why", async () => {
      const first = tutorialBody({ text: 'x', return_format: 'html' });
      const anonymous = await post(secured, '/analyze/text', first);
      expect(anonymous.status).to.equal(200);
      expect(anonymous.body).to.include({ success: false, result: '', code: 'missing_api_key', status: 401 });
      const wrong = await post(secured, '/analyze/text', first, { authorization: 'Bearer nope' });
      expect(wrong.status).to.equal(200);
      expect(wrong.body).to.include({ success: false, code: 'invalid_api_key', status: 401 });
      const later = await post(secured, '/analyze/text', tutorialBody({ text: 'x' }));
      expect(later.status).to.equal(401);
      expect(later.body).to.include({ code: 'missing_api_key' });
      expect(later.body.detail).to.be.a('string').and.not.equal('');
      const allowed = await post(secured, '/analyze/text', first, { authorization: 'Bearer key-for-1c' });
      expect(allowed.status).to.equal(200);
      expect(allowed.body.success).to.equal(true);
    });

    it('keeps GET /health open, as the tutorial had it', async () => {
      const response = await fetch(`${secured.url}/health`);
      expect(response.status).to.equal(200);
      expect(await response.json()).to.include({ status: 'ok', gigachat: true });
    });
  });

  describe('GET /health', () => {
    it('reports ok and GigaChat when it is configured', async () => {
      const response = await fetch(`${gateway.url}/health`);
      expect(response.status).to.equal(200);
      const body = (await response.json()) as any;
      expect(body).to.include({ status: 'ok', gigachat: true });
      expect(body.providers.gigachat).to.equal('enabled');
      expect(body).not.to.have.property('error');
    });

    it('reports degraded, and why, when no provider is configured', async () => {
      const bare = await startTestGateway({});
      try {
        const response = await fetch(`${bare.url}/health`);
        expect(response.status).to.equal(200);
        const body = (await response.json()) as any;
        expect(body).to.include({ status: 'degraded', gigachat: false });
        expect(body.providers.gigachat).to.equal('disabled: GIGACHAT_CREDENTIALS is not set');
        expect(body.error).to.match(/No provider is configured/);
      } finally {
        await bare.close();
      }
    });
  });
});
