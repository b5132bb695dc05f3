import { expect } from 'chai';
import OpenAI from 'openai';

/** The error an `openai` SDK call rejects with; fails the test when the call succeeds. */
export async function apiError(call: Promise<unknown>): Promise<InstanceType<typeof OpenAI.APIError>> {
  try {
    await call;
  } catch (error) {
    expect(error).to.be.instanceOf(OpenAI.APIError);
    return error as InstanceType<typeof OpenAI.APIError>;
  }
  throw new Error('expected the call to fail');
}
