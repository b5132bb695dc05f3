/*
 * What a key check hands to the rest of a request. The shapes are declared with the configuration
 * (config-file.ts), which start-up keys are read into; this is where the rest of the code finds them.
 */
export type { Client, OwnCredentials, OwnGemini, OwnGigaChat } from '../config-file.ts';
export { isGigaChatAuthorizationKey } from '../lib/env.ts';
