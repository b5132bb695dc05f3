import { expect } from 'chai';
import { engineCodeFor } from '../../../b24-app/install/engine-code.ts';
import { engineSpec } from '../../../b24-app/install/engines.ts';
import { contextWindow, modelContextLimit } from '../../../b24-app/install/model-windows.ts';

describe('Bitrix24 engines: codes, names, context limits', () => {
  it('codes are stable per model and in ai.engine.register’s alphabet', () => {
    expect(engineCodeFor('GigaChat-2-Max')).to.equal('gigagate_GigaChat-2-Max');
    expect(engineCodeFor('gemini-2.5-flash')).to.equal('gigagate_gemini-2_5-flash');
    expect(engineCodeFor('gemini/gemini-2.5-pro')).to.equal('gigagate_gemini_gemini-2_5-pro');
    for (const code of ['gigagate_GigaChat-2-Max', engineCodeFor('gemini/gemini-2.5-pro')]) {
      expect(code).to.match(/^[A-Za-z0-9-_]+$/);
    }
  });

  it('model_context_limit is the real window minus an output reserve, conservative when unknown', () => {
    expect(contextWindow('GigaChat-2-Max')).to.equal(131_072);
    expect(contextWindow('GigaChat-Pro')).to.equal(32_768);
    expect(contextWindow('gemini-2.5-flash')).to.equal(1_048_576);
    expect(contextWindow('gemini/gemini-2.5-flash')).to.equal(1_048_576);
    expect(modelContextLimit('GigaChat-2')).to.equal(131_072 - 8_192);
    expect(modelContextLimit('GigaChat')).to.equal(32_768 - 8_192);
    expect(modelContextLimit('some-new-model')).to.equal(16_384 - 4_096);
  });

  it('an engine names its model and product, category text, ChatGPT-style prompts, token limits', () => {
    expect(
      engineSpec({ id: 'gemini-2.5-flash', ownedBy: 'google' }, 'https://gate.example.ru/b24/engine/m.k'),
    ).to.deep.equal({
      name: 'gemini-2.5-flash (Google Gemini via gigagate)',
      code: 'gigagate_gemini-2_5-flash',
      category: 'text',
      completions_url: 'https://gate.example.ru/b24/engine/m.k/gigagate_gemini-2_5-flash',
      settings: { code_alias: 'ChatGPT', model_context_type: 'token', model_context_limit: 1_048_576 - 8_192 },
    });
  });
});
