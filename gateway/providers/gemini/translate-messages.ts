import { parseDataUrl } from '../../openai/data-url.ts';
import { BadRequestError } from '../../openai/errors.ts';
import { readInputAudio } from '../../openai/input-audio.ts';
import { checkJsonDepth } from '../../openai/json-depth.ts';
import { parseToolArguments } from '../../openai/tool-arguments.ts';
import type { OpenAIAssistantMessage, OpenAIContentPart, OpenAIMessage } from '../../openai/types.ts';
import { storedFileKey } from './resolve-media.ts';
import { decodeGeminiToolCallId } from './tool-call-id.ts';
import type { GeminiContent, GeminiInlineData, GeminiPart } from './wire-types.ts';

/** Gemini 3 refuses a replayed function call without its thought signature; this documented value waives the check. */
export const SKIP_THOUGHT_SIGNATURE = 'skip_thought_signature_validator';

export interface GeminiMessagesContext {
  /** Inline data for every image URL in the messages (see resolve-media.ts). */
  media: ReadonlyMap<string, GeminiInlineData>;
  /** Gemini 3 models check thought signatures on replayed calls. */
  checksThoughtSignatures: boolean;
}

export interface GeminiConversation {
  systemInstruction?: GeminiContent;
  contents: GeminiContent[];
}

type TextPart = { type: string; text?: string; refusal?: string };
type ToolCallWithExtras = NonNullable<OpenAIAssistantMessage['tool_calls']>[number] & {
  extra_content?: { google?: { thought_signature?: string } };
};

/**
 * OpenAI messages → Gemini `systemInstruction` + `contents`. System and developer messages, wherever
 * they are, join the system instruction in order; turns alternate user/model, so neighbours of one
 * role are merged; consecutive tool results become one user turn of function responses, each named
 * after the call it answers.
 */
export function translateGeminiMessages(
  messages: readonly OpenAIMessage[],
  context: GeminiMessagesContext,
): GeminiConversation {
  const system: GeminiPart[] = [];
  const contents: GeminiContent[] = [];
  const calls = new Map<string, { name: string; geminiId?: string }>();
  let unanswered: Array<{ id: string; param: string }> = [];

  const push = (role: 'user' | 'model', parts: GeminiPart[]): void => {
    if (parts.length === 0) return;
    const last = contents.at(-1);
    if (last?.role === role) last.parts?.push(...parts);
    else contents.push({ role, parts });
  };
  const requireAnswers = (): void => {
    const first = unanswered[0];
    if (first === undefined) return;
    throw new BadRequestError(
      `The tool call '${first.id}' has no tool message answering it; every tool call must be followed by its result.`,
      { param: first.param },
    );
  };

  for (const [index, message] of messages.entries()) {
    const param = `messages[${index}]`;
    if (message.role !== 'tool' && message.role !== 'function') requireAnswers();
    switch (message.role) {
      case 'system':
      case 'developer':
        system.push(...textParts(message.content, `${param}.content`));
        break;
      case 'user':
        push('user', userParts(message.content, `${param}.content`, context.media));
        break;
      case 'assistant': {
        const parts = textParts(message.content, `${param}.content`);
        const toolCalls = (message.tool_calls ?? []) as ToolCallWithExtras[];
        for (const [position, call] of toolCalls.entries()) {
          const callParam = `${param}.tool_calls[${position}]`;
          if (call.type !== 'function') {
            throw new BadRequestError('Only function tool calls can be sent to Gemini.', {
              param: `${callParam}.type`,
            });
          }
          const ref = decodeGeminiToolCallId(call.id);
          const signature =
            ref.signature ??
            call.extra_content?.google?.thought_signature ??
            (context.checksThoughtSignatures && position === 0 ? SKIP_THOUGHT_SIGNATURE : undefined);
          const part: GeminiPart = {
            functionCall: {
              name: call.function.name,
              args: parseToolArguments(call.function.arguments, `${callParam}.function.arguments`),
              ...(ref.geminiId === undefined ? {} : { id: ref.geminiId }),
            },
          };
          if (signature !== undefined) part.thoughtSignature = signature;
          parts.push(part);
          calls.set(call.id, {
            name: call.function.name,
            ...(ref.geminiId === undefined ? {} : { geminiId: ref.geminiId }),
          });
          unanswered.push({ id: call.id, param: `${callParam}.id` });
        }
        if (message.function_call != null) {
          const { name, arguments: args } = message.function_call;
          const part: GeminiPart = {
            functionCall: { name, args: parseToolArguments(args, `${param}.function_call.arguments`) },
          };
          // The legacy form carries no signature; on Gemini 3 it is the turn's first call when it stands alone.
          if (context.checksThoughtSignatures && toolCalls.length === 0) part.thoughtSignature = SKIP_THOUGHT_SIGNATURE;
          parts.push(part);
        }
        push('model', parts);
        break;
      }
      case 'tool': {
        const call = calls.get(message.tool_call_id);
        if (call === undefined) {
          throw new BadRequestError(
            `No earlier assistant message has a tool call with the id '${message.tool_call_id}'.`,
            { param: `${param}.tool_call_id` },
          );
        }
        if (!unanswered.some((entry) => entry.id === message.tool_call_id)) {
          // Gemini wants exactly one response per call of the turn before; a second one is a 400 there.
          throw new BadRequestError(`The tool call '${message.tool_call_id}' was already answered.`, {
            param: `${param}.tool_call_id`,
          });
        }
        unanswered = unanswered.filter((entry) => entry.id !== message.tool_call_id);
        const response = { output: toolOutput(joinText(message.content, `${param}.content`), `${param}.content`) };
        push('user', [
          {
            functionResponse: {
              name: call.name,
              response,
              ...(call.geminiId === undefined ? {} : { id: call.geminiId }),
            },
          },
        ]);
        break;
      }
      case 'function':
        push('user', [
          {
            functionResponse: {
              name: message.name,
              response: { output: toolOutput(message.content ?? '', `${param}.content`) },
            },
          },
        ]);
        break;
    }
  }
  requireAnswers();
  if (contents.length === 0) {
    throw new BadRequestError('Gemini needs at least one user or assistant message besides system messages.', {
      param: 'messages',
    });
  }
  return { ...(system.length > 0 ? { systemInstruction: { parts: system } } : {}), contents };
}

/** A tool result as Gemini's `response.output`: parsed JSON when it is JSON, the text otherwise. */
function toolOutput(text: string, param: string): unknown {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return text;
  }
  checkJsonDepth(parsed, param);
  return parsed;
}

function joinText(content: string | readonly TextPart[] | null | undefined, param: string): string {
  return textParts(content, param)
    .map((part) => part.text)
    .join('\n');
}

function textParts(content: string | readonly TextPart[] | null | undefined, param: string): GeminiPart[] {
  if (content == null) return [];
  if (typeof content === 'string') return content === '' ? [] : [{ text: content }];
  const parts: GeminiPart[] = [];
  for (const [index, part] of content.entries()) {
    const text = part.type === 'text' ? part.text : part.type === 'refusal' ? part.refusal : undefined;
    if (text === undefined) {
      throw new BadRequestError(`Only text parts are allowed here, not '${part.type}'.`, {
        param: `${param}[${index}].type`,
      });
    }
    if (text !== '') parts.push({ text });
  }
  return parts;
}

function userParts(
  content: string | readonly OpenAIContentPart[],
  param: string,
  media: ReadonlyMap<string, GeminiInlineData>,
): GeminiPart[] {
  if (typeof content === 'string') return content === '' ? [] : [{ text: content }];
  const parts: GeminiPart[] = [];
  for (const [index, part] of content.entries()) {
    const partParam = `${param}[${index}]`;
    switch (part.type) {
      case 'text':
        if (part.text !== '') parts.push({ text: part.text });
        break;
      case 'image_url': {
        const inline = media.get(part.image_url.url);
        if (inline === undefined) throw new Error(`image ${partParam} was not resolved`); // resolve-media.ts ran first
        parts.push({ inlineData: inline });
        break;
      }
      case 'input_audio': {
        const audio = readInputAudio(part.input_audio, `${partParam}.input_audio`);
        parts.push({ inlineData: { mimeType: `audio/${audio.format}`, data: audio.data } });
        break;
      }
      case 'file': {
        const file = part.file as { file_data?: unknown; file_id?: unknown };
        const inline =
          typeof file.file_id === 'string'
            ? media.get(storedFileKey(file.file_id))
            : typeof file.file_data === 'string'
              ? parseDataUrl(file.file_data)
              : undefined;
        if (inline === undefined) {
          throw new BadRequestError(
            "A file part needs 'file_data' as a base64 data: URL, or a 'file_id' from POST /v1/files.",
            {
              param: `${partParam}.file.file_data`,
            },
          );
        }
        parts.push({ inlineData: inline });
        break;
      }
    }
  }
  return parts;
}
