/** Every engine code of ours starts with this, so the CLI can tell our engines from others on a portal. */
export const ENGINE_CODE_PREFIX = 'gigagate_';

/**
 * The engine code for a model: stable per model, in the alphabet `ai.engine.register` accepts
 * (`^[A-Za-z0-9-_]+$`). CoPilot stores the admin's choice by code, so it must
 * not change between installs.
 */
export function engineCodeFor(model: string): string {
  return `${ENGINE_CODE_PREFIX}${model.replace(/[^A-Za-z0-9-]/g, '_')}`;
}
