import { BadRequestError } from '../../openai/errors.ts';
import { checkJsonDepth } from '../../openai/json-depth.ts';
import { parseToolArguments } from '../../openai/tool-arguments.ts';
import type { OpenAIContentPart, OpenAIMessage } from '../../openai/types.ts';
import { attachmentKey } from './attachments.ts';
import type { GigaChatMessage } from './wire-types.ts';

type ContentPart = { type: string; text?: string; refusal?: string };

/** The text of a message's content; non-text parts are refused with the part's path. */
function contentText(content: string | readonly ContentPart[] | null | undefined, param: string): string {
  if (content == null) return '';
  if (typeof content === 'string') return content;
  const texts: string[] = [];
  for (const [index, part] of content.entries()) {
    if (part.type === 'text') texts.push(part.text ?? '');
    else if (part.type === 'refusal') texts.push(part.refusal ?? '');
    else {
      throw new BadRequestError(
        `GigaChat accepts text content only through this gateway; '${part.type}' parts are not supported.`,
        { param: `${param}[${index}].type`, code: 'unsupported_content' },
      );
    }
  }
  return texts.join('\n');
}

/** GigaChat wants function results as a JSON object string; anything else is wrapped as {"result": …}. */
function functionResult(text: string, param: string): string {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return JSON.stringify({ result: text });
  }
  checkJsonDepth(parsed, param);
  if (typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed)) return text;
  return JSON.stringify({ result: parsed });
}

/** A user message: its text parts joined, its other parts as the GigaChat file ids attachments.ts found for them. */
function userMessage(
  content: string | readonly OpenAIContentPart[],
  index: number,
  attachments: ReadonlyMap<string, string>,
): GigaChatMessage {
  if (typeof content === 'string') return { role: 'user', content };
  const texts: string[] = [];
  const ids: string[] = [];
  for (const [position, part] of content.entries()) {
    if (part.type === 'text') {
      texts.push(part.text);
      continue;
    }
    const id = attachments.get(attachmentKey(index, position));
    if (id === undefined) throw new Error(`messages[${index}].content[${position}] was not uploaded`); // attachments.ts ran first
    ids.push(id);
  }
  const message: GigaChatMessage = { role: 'user', content: texts.join('\n') };
  if (ids.length > 0) message.attachments = ids;
  return message;
}

/**
 * OpenAI messages → GigaChat messages. GigaChat allows one system message, first; one function
 * call per assistant message, each followed by its result; roles `function` for results. User
 * messages' attachments are the file ids `attachments` holds by content part (attachments.ts).
 */
export function translateGigaChatMessages(
  messages: readonly OpenAIMessage[],
  attachments: ReadonlyMap<string, string> = new Map(),
): GigaChatMessage[] {
  const output: GigaChatMessage[] = [];
  const push = (message: GigaChatMessage): void => {
    const last = output.at(-1);
    const mergeable = (entry: GigaChatMessage) =>
      entry.role === 'user' || (entry.role === 'assistant' && entry.function_call === undefined);
    // Two messages with files stay apart: GigaChat takes one image per message.
    const bothAttach = last?.attachments !== undefined && message.attachments !== undefined;
    if (last !== undefined && last.role === message.role && mergeable(last) && mergeable(message) && !bothAttach) {
      last.content = last.content === '' ? message.content : `${last.content}\n\n${message.content}`;
      if (message.attachments !== undefined) last.attachments = message.attachments;
    } else {
      output.push(message);
    }
  };
  let index = 0;
  const system: string[] = [];
  // Leading system/developer messages become GigaChat's single system message; later ones speak as the user.
  for (; index < messages.length; index++) {
    const message = messages[index] as OpenAIMessage;
    if (message.role !== 'system' && message.role !== 'developer') break;
    system.push(contentText(message.content, `messages[${index}].content`));
  }
  if (system.length > 0) output.push({ role: 'system', content: system.join('\n\n') });

  for (; index < messages.length; index++) {
    const message = messages[index] as OpenAIMessage;
    const param = `messages[${index}]`;
    switch (message.role) {
      case 'system':
      case 'developer':
        push({ role: 'user', content: contentText(message.content, `${param}.content`) });
        break;
      case 'user':
        push(userMessage(message.content, index, attachments));
        break;
      case 'function':
        push({
          role: 'function',
          name: message.name,
          content: functionResult(message.content ?? '', `${param}.content`),
        });
        break;
      case 'tool':
        // Results directly after their assistant message are taken by translateAssistant; one
        // anywhere else answers a call that was already answered, or never made.
        throw new BadRequestError(
          `This tool message does not directly follow an assistant message with the tool call '${message.tool_call_id}'.`,
          { param: `${param}.tool_call_id` },
        );
      case 'assistant':
        index = translateAssistant(messages, index, push);
        break;
    }
  }
  return output;
}

/**
 * One assistant message. With several tool calls, GigaChat (one call per message) gets them as
 * consecutive call/result pairs, each result taken from the tool messages that follow.
 * Returns the index of the last message consumed.
 */
function translateAssistant(
  messages: readonly OpenAIMessage[],
  index: number,
  push: (message: GigaChatMessage) => void,
): number {
  const message = messages[index] as Extract<OpenAIMessage, { role: 'assistant' }>;
  const param = `messages[${index}]`;
  const content = contentText(message.content, `${param}.content`);
  const calls = (message.tool_calls ?? []).flatMap((call) => (call.type === 'function' ? [call] : []));
  if (calls.length === 0) {
    if (message.function_call != null) {
      const { name, arguments: args } = message.function_call;
      push({
        role: 'assistant',
        content,
        function_call: { name, arguments: parseToolArguments(args, `${param}.function_call.arguments`) },
      });
    } else {
      push({ role: 'assistant', content });
    }
    return index;
  }
  const results = new Map<string, { message: OpenAIMessage; index: number }>();
  let last = index;
  for (let next = index + 1; next < messages.length && messages[next]?.role === 'tool'; next++) {
    const result = messages[next] as Extract<OpenAIMessage, { role: 'tool' }>;
    if (results.has(result.tool_call_id)) {
      throw new BadRequestError(`A second tool message answers the tool call '${result.tool_call_id}'.`, {
        param: `messages[${next}].tool_call_id`,
      });
    }
    results.set(result.tool_call_id, { message: result, index: next });
    last = next;
  }
  for (const [callIndex, call] of calls.entries()) {
    const callParam = `${param}.tool_calls[${callIndex}]`;
    push({
      role: 'assistant',
      content: callIndex === 0 ? content : '',
      function_call: {
        name: call.function.name,
        arguments: parseToolArguments(call.function.arguments, `${callParam}.function.arguments`),
      },
    });
    const result = results.get(call.id);
    if (result === undefined) {
      throw new BadRequestError(
        `The tool call '${call.id}' has no tool message answering it; GigaChat needs every function call's result in the history.`,
        { param: callParam },
      );
    }
    results.delete(call.id);
    const resultContent = result.message.content as string | ContentPart[];
    push({
      role: 'function',
      name: call.function.name,
      content: functionResult(
        contentText(resultContent, `messages[${result.index}].content`),
        `messages[${result.index}].content`,
      ),
    });
  }
  const stray = results.values().next().value;
  if (stray !== undefined) {
    throw new BadRequestError(`No tool call of the preceding assistant message has this id.`, {
      param: `messages[${stray.index}].tool_call_id`,
    });
  }
  return last;
}
