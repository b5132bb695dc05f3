import { expect } from 'chai';
import { type EngineRequest, parseEngineRequest } from '../../../b24-app/engine/engine-request.ts';
import { buildMessages } from '../../../b24-app/engine/messages.ts';

/** A body as the `ai` module's Engine\ThirdParty::completions() sends it (fields as test/fixtures/bitrix24/SOURCES.md lists). */
const body = (fields: Record<string, unknown> = {}) => ({
  prompt: 'Сократи текст',
  payload_raw: 'shorten',
  payload_provider: 'prompt',
  payload_role: 'Ты редактор.',
  payload_prompt_text: '{original_message}',
  payload_markers: { language: 'ru', original_message: 'Длинный текст' },
  context: [],
  auth: null,
  category: 'text',
  ttl: 14400,
  callbackUrl:
    'https://acme.bitrix24.ru/bitrix/services/main/ajax.php?action=ai.controller.integration.thirdparty.callbackSuccess&hash=3f2a',
  errorCallbackUrl:
    'https://acme.bitrix24.ru/bitrix/services/main/ajax.php?action=ai.controller.integration.thirdparty.callbackError&hash=3f2a',
  ...fields,
});

function refusal(fields: Record<string, unknown>): string {
  try {
    parseEngineRequest(body(fields));
  } catch (error) {
    return (error as Error).message;
  }
  throw new Error('expected a refusal');
}

describe('Bitrix24 engine requests (engine-request.ts, messages.ts)', () => {
  it('reads the fields the worker needs, with Bitrix24’s defaults', () => {
    const request = parseEngineRequest(body({ ttl: undefined }));
    expect(request).to.deep.include({
      prompt: 'Сократи текст',
      payloadRole: 'Ты редактор.',
      collectContext: false,
      maxTokens: undefined,
      temperature: undefined,
      language: 'ru',
      hash: '3f2a',
      ttlSeconds: 14400,
      authMemberId: undefined,
    });
  });

  it('accepts PHP’s encodings: numbers as strings, a context object, an oversized ttl clamped to a day', () => {
    const request = parseEngineRequest(
      body({
        max_tokens: '250',
        temperature: '0',
        ttl: 999999,
        collect_context: true,
        context: { 0: { role: 'user', content: 'a' }, 1: { content: 'b' } },
        auth: { member_id: 'abc', access_token: 'test-access-x' },
      }),
    );
    expect(request.maxTokens).to.equal(250);
    expect(request.temperature).to.equal(0);
    expect(request.ttlSeconds).to.equal(86400);
    expect(request.context).to.deep.equal([
      { role: 'user', content: 'a' },
      { role: 'user', content: 'b' },
    ]);
    expect(request.authMemberId).to.equal('abc');
  });

  it('refuses bad input naming the field', () => {
    expect(refusal({ prompt: undefined })).to.match(/^prompt: /);
    expect(refusal({ prompt: { file: 'x' }, category: 'audio' })).to.match(/^category: /);
    expect(refusal({ callbackUrl: 'https://acme.bitrix24.ru/ajax.php' })).to.match(/^callbackUrl: has no queue hash/);
    expect(refusal({ errorCallbackUrl: 42 })).to.match(/^errorCallbackUrl: /);
    expect(refusal({ max_tokens: 10.5 })).to.match(/^max_tokens: must be a whole number/);
    expect(refusal({ temperature: 'hot' })).to.match(/^temperature: /);
    expect(
      refusal({
        context: [
          { role: 'user', content: 'a' },
          { role: 'user', content: 7 },
        ],
      }),
    ).to.match(/^context\[1\]\.content: /);
    expect(refusal({ payload_role: ['x'] })).to.match(/^payload_role: /);
    expect(() => parseEngineRequest('prompt=x')).to.throw('the body must be a JSON object');
  });

  it('turns payload_role into the system message, context into history, prompt into the last user message', () => {
    const request: EngineRequest = parseEngineRequest(
      body({
        collect_context: true,
        context: [
          { role: 'user', content: 'Привет' },
          { role: 'assistant', content: 'Здравствуйте!' },
          { role: 'system', content: 'an instruction inside the chat' },
          { role: 'user', content: '   ' },
        ],
      }),
    );
    const messages = buildMessages(request);
    expect(messages.map((message) => message.role)).to.deep.equal(['system', 'user', 'assistant', 'user', 'user']);
    expect(messages[0]?.content).to.equal(
      "Ты редактор.\n\nAnswer in Russian (the user's interface language) unless the request asks for another language. Format the answer as Markdown without HTML.",
    );
    expect(messages.at(-1)).to.deep.equal({ role: 'user', content: 'Сократи текст' });
    const english = buildMessages(
      parseEngineRequest(body({ payload_role: null, payload_markers: { language: 'en' } })),
    );
    expect(english).to.have.length(2);
    expect(english[0]?.content).to.match(/^Answer in English/);
    const unknown = buildMessages(parseEngineRequest(body({ payload_markers: {} })));
    expect(unknown[0]?.content).to.contain('Answer in the language of the request');
  });
});
