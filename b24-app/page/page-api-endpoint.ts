import type { Context, Next } from 'koa';
import OpenAI from 'openai';
import type { B24Deps } from '../deps.ts';
import { answerOpenAIError } from '../http/http-answers.ts';
import { BodyError, jsonReader } from '../http/request-body.ts';
import { registerEngines } from '../install/install.ts';
import { installFailure } from '../install/install-failure.ts';
import type { PortalRecord } from '../portal/portal-store.ts';
import { type PageSession, readPageSession } from './session.ts';

/*
 * The app page's own calls (`/b24/app/api/*`). A client reads these, so errors have OpenAI's
 * shape. Each call carries the page session from the page in an Authorization header.
 */

interface PageState {
  session: PageSession;
  portal: PortalRecord;
}

/** Checks the page session and loads its portal into `ctx.state.page`. */
export function pageSession(deps: B24Deps) {
  return async function checkPageSession(ctx: Context, next: Next): Promise<void> {
    const token = /^Bearer\s+(\S+)$/i.exec(ctx.get('authorization'))?.[1];
    const session = token === undefined ? undefined : readPageSession(deps.signingKey, token);
    const portal = session === undefined ? undefined : await deps.portals.get(session.memberId);
    if (session === undefined || portal === undefined) {
      ctx.req.resume();
      return answerOpenAIError(
        ctx,
        401,
        'authentication_error',
        'The page session is missing, expired or not valid; reopen the app in Bitrix24.',
        'invalid_session',
      );
    }
    ctx.state.page = { session, portal } satisfies PageState;
    await next();
  };
}

const pageState = (ctx: Context) => ctx.state.page as PageState;

/** `GET /b24/app/api/state`: the engines and their usage. */
export function readState(deps: B24Deps) {
  return async function showState(ctx: Context): Promise<void> {
    const { portal } = pageState(ctx);
    ctx.body = { engines: portal.engines, usage: await deps.portals.usage(portal.memberId) };
  };
}

/** `POST /b24/app/api/engines`: registers the engines again (administrators only). */
export function reregister(deps: B24Deps) {
  return engineAction(deps, false);
}

/**
 * `POST /b24/app/api/rotate`: new engine URLs (administrators only). The engines are registered
 * again at URLs with a new secret and the old URLs stop answering, for when one may have leaked.
 */
export function rotateEngineUrls(deps: B24Deps) {
  return engineAction(deps, true);
}

function engineAction(deps: B24Deps, newEngineUrls: boolean) {
  return async function changeEngines(ctx: Context): Promise<void> {
    const { session, portal } = pageState(ctx);
    ctx.req.resume();
    if (!session.isAdmin) {
      return answerOpenAIError(
        ctx,
        403,
        'permission_error',
        'Only a portal administrator can register engines or change their URLs.',
        'not_admin',
      );
    }
    try {
      const { portal: updated, sync } = await registerEngines(deps, portal, { newEngineUrls });
      ctx.body = { engines: updated.engines, usage: await deps.portals.usage(portal.memberId), sync };
    } catch (error) {
      const failure = installFailure(deps, portal.memberId, error);
      answerOpenAIError(
        ctx,
        failure.status,
        failure.status === 403 ? 'permission_error' : 'api_error',
        failure.message,
        failure.code,
      );
    }
  };
}

const readTryBody = jsonReader(64 * 1024);

/** `POST /b24/app/api/try` `{engine, prompt}`: one prompt through the engine's model, answered at once. */
export function tryPrompt(deps: B24Deps) {
  return async function tryOnePrompt(ctx: Context): Promise<void> {
    const { portal } = pageState(ctx);
    let body: { engine?: unknown; prompt?: unknown };
    try {
      body = (await readTryBody(ctx)) as typeof body;
    } catch (error) {
      const status = error instanceof BodyError ? error.status : 400;
      return answerOpenAIError(
        ctx,
        status,
        'invalid_request_error',
        'The body must be JSON {engine, prompt}.',
        'invalid_json',
      );
    }
    const engine = portal.engines.find((candidate) => candidate.code === body?.engine);
    if (engine === undefined) {
      return answerOpenAIError(
        ctx,
        400,
        'invalid_request_error',
        'engine: not an engine of this portal.',
        'unknown_engine',
        'engine',
      );
    }
    if (typeof body.prompt !== 'string' || body.prompt.trim() === '' || body.prompt.length > 8000) {
      return answerOpenAIError(
        ctx,
        400,
        'invalid_request_error',
        'prompt: must be text of 1 to 8000 characters.',
        'invalid_prompt',
        'prompt',
      );
    }
    const wait = deps.rateLimit.take(portal.memberId);
    if (wait > 0) {
      ctx.set('retry-after', String(wait));
      return answerOpenAIError(
        ctx,
        429,
        'rate_limit_error',
        `Too many requests from this portal; retry in ${wait} s.`,
        'rate_limited',
      );
    }
    try {
      const completion = await deps.gateway.chat.completions.create({
        model: engine.model,
        messages: [{ role: 'user', content: body.prompt }],
      });
      await deps.portals.addUsage(portal.memberId, engine.code, {
        prompt: completion.usage?.prompt_tokens ?? 0,
        completion: completion.usage?.completion_tokens ?? 0,
      });
      ctx.body = { answer: completion.choices[0]?.message.content ?? '', usage: completion.usage ?? null };
    } catch (error) {
      if (error instanceof OpenAI.APIError && error.status !== undefined) {
        return answerOpenAIError(ctx, error.status, 'api_error', error.message, String(error.code ?? 'gateway_error'));
      }
      answerOpenAIError(ctx, 502, 'api_error', 'The gateway could not be reached.', 'gateway_unreachable');
    }
  };
}
