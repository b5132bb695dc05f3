import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { expect } from 'chai';

// Comments travel with the repository: none cites a research note kept outside it (a fact is
// stated, or the upstream's public page linked), and measured figures live in docs/performance.md
// and test/bench/results/, not in comments, where they go stale unseen.

const ROOT = join(import.meta.dirname, '..');
/** The folders and files checked. */
const CHECKED = ['gateway', 'b24-app', 'test', 'onec', 'docs', 'README.md', 'Dockerfile', 'compose.yaml', '.ci'];
const EXTENSIONS = /\.(ts|cjs|js|bsl|cmd|sh|md|yaml)$|^(Dockerfile|run)$/;

/** The research notes outside the repository, named as a bare file (`docs/gigachat.md` is ours). */
const OUTSIDE_NOTE = /(?<![\w/.-])(?:bitrix24|gigachat|gemini-and-openai|design|style|onec)\.md\b|shared\/docs/;
/** A figure with a unit of time or a share, in a comment line: `about 1.2 µs`, `7 %`, `3,300 req/s`. */
const MEASURED = /\d(?:[\d,.]*\d)? ?(?:µs|%|req\/s)/;
const COMMENT = /^\s*(?:\/\/|\/?\*|#|rem\b)/;

function files(): string[] {
  const found: string[] = [];
  const walk = (path: string) => {
    if (statSync(path).isDirectory()) {
      for (const name of readdirSync(path)) if (name !== 'node_modules') walk(join(path, name));
    } else if (EXTENSIONS.test(path.split('/').at(-1) ?? '')) found.push(path);
  };
  for (const entry of CHECKED) walk(join(ROOT, entry));
  return found;
}

/** The lines of `text` that break a rule, as `line: text`; Markdown's own link targets are ours. */
function offending(text: string, isCode: boolean): string[] {
  return text
    .split('\n')
    .map((line, index) => ({ line: isCode ? line : line.replace(/\]\([^)]*\)/g, ']'), number: index + 1 }))
    .filter(({ line }) => OUTSIDE_NOTE.test(line) || (isCode && COMMENT.test(line) && MEASURED.test(line)))
    .map(({ line, number }) => `${number}: ${line.trim()}`);
}

describe('comments: they travel with the repository', () => {
  for (const path of files()) {
    const name = relative(ROOT, path);
    if (name === 'test/comments.test.ts') continue; // it names the notes to forbid them
    it(`${name} cites no note outside the repository${name.endsWith('.md') ? '' : ' and no measured figure'}`, () => {
      expect(offending(readFileSync(path, 'utf8'), !name.endsWith('.md'))).to.deep.equal([]);
    });
  }

  it('catches both, and leaves our docs, units and sizes alone', () => {
    const text = [
      '// the ai.engine.list item (bitrix24.md §1.2)',
      '// Pro refuses MEDIUM (gemini-and-openai.md, "Thinking")',
      '// costs about 1.2 µs per request against 0.05 µs',
      '// a tenth of the CPU: 7 %',
      '// see docs/gigachat.md, "OpenAI parameters with GigaChat"',
      '/** CPU time per request, µs (Linux /proc). */',
      '// 4 MB in 64 KB pieces',
      "const share = '5 %'; // not a comment line",
    ].join('\n');
    expect(offending(text, true).map((line) => Number(line.split(':')[0]))).to.deep.equal([1, 2, 3, 4]);
  });
});
