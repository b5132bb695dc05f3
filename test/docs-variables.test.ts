import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect } from 'chai';

// An operator learns the settings from two places: the table of docs/configuration.md and the
// commented .env.example they copy. Both must name the same variables.

const ROOT = join(import.meta.dirname, '..');
const read = (path: string) => readFileSync(join(ROOT, path), 'utf8');

/** The variables the first column of the configuration table names (`PORT`, `HOST` in one row too). */
function tableVariables(markdown: string): string[] {
  const names = new Set<string>();
  for (const row of markdown.split('\n').filter((line) => line.startsWith('| `'))) {
    const first = row.split('|')[1] ?? '';
    for (const match of first.matchAll(/`([A-Z][A-Z0-9_]*)`/g)) if (match[1] !== undefined) names.add(match[1]);
  }
  return [...names].sort();
}

/** The variables .env.example sets or shows commented out (`# NAME=…`). */
function exampleVariables(text: string): string[] {
  const names = new Set<string>();
  for (const match of text.matchAll(/^#? ?([A-Z][A-Z0-9_]*)=/gm)) if (match[1] !== undefined) names.add(match[1]);
  return [...names].sort();
}

describe('docs: the configuration table and .env.example', () => {
  it('name the same variables', () => {
    const table = tableVariables(read('docs/configuration.md'));
    expect(table).to.include.members(['PORT', 'HOST', 'GIGACHAT_CREDENTIALS', 'GEMINI_API_KEY', 'PUBLIC_URL']);
    expect(table).to.deep.equal(exampleVariables(read('.env.example')));
  });

  it('read a variable left out of either', () => {
    expect(tableVariables('| `A_B`, `C` | x | y |\n| variable | meaning |\n')).to.deep.equal(['A_B', 'C']);
    expect(exampleVariables('A_B=1\n# C=\n#   not this\nlower=1\n')).to.deep.equal(['A_B', 'C']);
  });
});
