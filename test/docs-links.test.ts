import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { brokenLinks, githubSlug, headingAnchors, linkTargets, markdownFiles } from './helpers/markdown-links.ts';

// The README is a landing page; the depth lives in docs/. Every relative link between them, and
// every #anchor, must lead somewhere, or a reader following one gets GitHub's 404.

const ROOT = join(import.meta.dirname, '..');
const read = (path: string) => readFileSync(join(ROOT, path), 'utf8');

describe('docs: the README, docs/ and every other Markdown file', () => {
  const files = markdownFiles(ROOT);

  it('finds the Markdown files, docs/ and onec/README.md among them', () => {
    expect(files).to.include.members(['README.md', 'onec/README.md', 'docs/configuration.md', 'docs/api.md']);
  });

  for (const file of files) {
    it(`${file}: every relative link names an existing file, every #anchor an existing heading`, () => {
      expect(brokenLinks(join(ROOT, file), read(file))).to.deep.equal([]);
    });
  }

  it('the README is a landing page: at most 300 lines', () => {
    expect(read('README.md').split('\n').length).to.be.at.most(300);
  });

  it('the README shows the test command .ci/run runs (npm test), and the two commands that start it', () => {
    const readme = read('README.md');
    expect(read('.ci/run')).to.match(/^npm test\b/m);
    for (const command of ['npm install', 'npm start', 'npm test']) expect(readme).to.contain(command);
  });

  it('the README links every file of docs/', () => {
    const linked = new Set(linkTargets(read('README.md')).map((target) => target.split('#')[0]));
    for (const file of files.filter((name) => name.startsWith('docs/'))) expect(linked, file).to.include(file);
  });
});

describe('docs: the link checker itself', () => {
  let folder: string;
  beforeEach(() => {
    folder = mkdtempSync(join(tmpdir(), 'docs-links-'));
  });
  afterEach(() => rmSync(folder, { recursive: true, force: true }));

  it("makes GitHub's anchors: lower case, punctuation dropped, Cyrillic kept, repeats numbered", () => {
    expect(githubSlug("GigaChat's certificate")).to.equal('gigachats-certificate');
    expect(githubSlug('Reading usage: `GET /admin/usage`')).to.equal('reading-usage-get-adminusage');
    expect(githubSlug('Model aliases, fallbacks and retries')).to.equal('model-aliases-fallbacks-and-retries');
    expect(githubSlug('Краткое описание (по-русски)')).to.equal('краткое-описание-по-русски');
    expect([...headingAnchors('# A\n## A\n```\n# A\n```\n### A\n')]).to.deep.equal(['a', 'a-1', 'a-2']);
  });

  it('reports a missing file, a missing anchor in another file and in its own, and ignores code', () => {
    writeFileSync(join(folder, 'other.md'), '# Other\n\n## Present\n');
    const text = [
      '# Here',
      '[ok](other.md) [ok](other.md#present) [ok](#here) [ok](https://example.com/x#y)',
      '[gone](missing.md) [wrong](other.md#absent) [wrong](#nowhere)',
      '`[code](missing-in-code.md)`',
      '```',
      '[fenced](missing-in-fence.md)',
      '```',
    ].join('\n');
    writeFileSync(join(folder, 'here.md'), text);
    expect(brokenLinks(join(folder, 'here.md'), text)).to.deep.equal([
      'missing.md: no such file',
      'other.md#absent: no heading has the anchor #absent',
      '#nowhere: no heading has the anchor #nowhere',
    ]);
  });
});
