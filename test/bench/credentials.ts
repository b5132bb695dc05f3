/** What the benchmark's mock upstreams accept: GigaChat's access token and a Gemini API key. */
export const BENCH_GIGACHAT_TOKEN = 'bench-token';
export const BENCH_GEMINI_KEY = 'bench-gemini-key';
