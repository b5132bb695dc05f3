import { expect } from 'chai';
import { geminiThinkingConfig } from '../../../../gateway/providers/gemini/thinking.ts';

type Effort = Parameters<typeof geminiThinkingConfig>[1];

describe('geminiThinkingConfig', () => {
  describe('Gemini 3 takes a level and cannot switch thinking off', () => {
    for (const [model, effort, level] of [
      ['gemini-3-flash-preview', 'none', 'LOW'],
      ['gemini-3-flash-preview', 'minimal', 'LOW'],
      ['gemini-3-flash-preview', 'low', 'LOW'],
      ['gemini-3-flash-preview', 'medium', 'MEDIUM'],
      ['gemini-3-flash-preview', 'high', 'HIGH'],
      ['gemini-3-flash-preview', 'xhigh', 'HIGH'],
      ['gemini-3-flash-preview', 'max', 'HIGH'],
      ['gemini-3.7-flash', 'medium', 'MEDIUM'],
      // Pro refuses MEDIUM (https://ai.google.dev/gemini-api/docs/thinking); it gets the level above.
      ['gemini-3-pro-preview', 'none', 'LOW'],
      ['gemini-3-pro-preview', 'low', 'LOW'],
      ['gemini-3-pro-preview', 'medium', 'HIGH'],
      ['gemini-3-pro-preview', 'high', 'HIGH'],
      ['gemini-3.1-pro', 'medium', 'HIGH'],
      ['Gemini-3-Pro-Preview', 'medium', 'HIGH'],
    ] as const) {
      it(`${model}, ${effort} → thinkingLevel ${level}`, () => {
        expect(geminiThinkingConfig(model, effort)).to.deep.equal({ thinkingLevel: level });
      });
    }

    it('never asks for MINIMAL, which some Gemini 3 models refuse (error-thinking-level.json)', () => {
      for (const effort of ['none', 'minimal', 'low', 'medium', 'high', 'xhigh', 'max'] as Effort[]) {
        expect(geminiThinkingConfig('gemini-3-flash-preview', effort)?.thinkingLevel).to.not.equal('MINIMAL');
      }
    });
  });

  describe('Gemini 2.5 takes a token budget', () => {
    for (const [model, effort, budget] of [
      ['gemini-2.5-flash', 'none', 0],
      ['gemini-2.5-flash', 'minimal', 512],
      ['gemini-2.5-flash', 'low', 1024],
      ['gemini-2.5-flash', 'medium', 8192],
      ['gemini-2.5-flash', 'high', 24_576],
      // Flash stops at 24,576.
      ['gemini-2.5-flash', 'xhigh', 24_576],
      ['gemini-2.5-flash-lite', 'max', 24_576],
      // Pro cannot turn thinking off: 128 is its minimum.
      ['gemini-2.5-pro', 'none', 128],
      ['gemini-2.5-pro', 'minimal', 512],
      ['gemini-2.5-pro', 'medium', 8192],
      ['gemini-2.5-pro', 'xhigh', 32_768],
      ['gemini-2.5-pro', 'max', 32_768],
    ] as const) {
      it(`${model}, ${effort} → thinkingBudget ${budget}`, () => {
        expect(geminiThinkingConfig(model, effort)).to.deep.equal({ thinkingBudget: budget });
      });
    }
  });

  it('never sends a level and a budget together (Gemini answers 400)', () => {
    for (const model of ['gemini-3-pro-preview', 'gemini-3-flash-preview', 'gemini-2.5-pro', 'gemini-2.5-flash']) {
      for (const effort of ['none', 'minimal', 'low', 'medium', 'high', 'xhigh', 'max'] as Effort[]) {
        expect(Object.keys(geminiThinkingConfig(model, effort) ?? {})).to.have.length(1);
      }
    }
  });

  for (const model of ['gemini-2.0-flash', 'gemini-2.0-flash-lite', 'gemma-3-27b-it', 'gemini-1.5-pro']) {
    it(`${model} has no thinking switch: nothing is sent`, () => {
      expect(geminiThinkingConfig(model, 'high')).to.equal(undefined);
      expect(geminiThinkingConfig(model, 'none')).to.equal(undefined);
    });
  }
});
