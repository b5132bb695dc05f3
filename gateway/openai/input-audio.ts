import { BadRequestError } from './errors.ts';

/** An `input_audio` content part's audio, checked: its format and its base64 text (whitespace removed). */
export interface InputAudio {
  format: 'wav' | 'mp3';
  data: string;
}

/**
 * Reads `input_audio` (`{data, format}`), which the request schema only checks is an object; OpenAI
 * takes `wav` and `mp3`. Anything else is a 400 naming `param` (the part's `input_audio`).
 */
export function readInputAudio(value: unknown, param: string): InputAudio {
  const audio = value as { data?: unknown; format?: unknown };
  const data = typeof audio.data === 'string' ? audio.data.replace(/\s/g, '') : '';
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(data) || (audio.format !== 'wav' && audio.format !== 'mp3')) {
    throw new BadRequestError("input_audio needs base64 'data' and a 'format' of 'wav' or 'mp3'.", {
      param,
      code: 'invalid_audio',
    });
  }
  return { format: audio.format, data };
}
