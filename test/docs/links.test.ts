/**
 * Every relative link in the README, SECURITY.md, CHANGELOG.md and docs/ leads somewhere: the
 * file exists and, for `#anchor` links into Markdown, a heading with that GitHub anchor exists.
 * And every page in docs/ can be found: both the README and docs/README.md link to it.
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';

const root = join(__dirname, '..', '..');
const pages = [
  'README.md',
  'SECURITY.md',
  'CHANGELOG.md',
  'examples/redis/README.md',
  ...readdirSync(join(root, 'docs'))
    .filter((f) => f.endsWith('.md'))
    .map((f) => `docs/${f}`),
];

/** GitHub's heading anchors (github-slugger): lower case, punctuation dropped, spaces to hyphens, repeats numbered. */
function anchors(markdown: string): Set<string> {
  const seen = new Map<string, number>();
  const out = new Set<string>();
  const text = markdown.replace(/```[\s\S]*?```/g, '');
  for (const [, heading] of text.matchAll(/^#{1,6}\s+(.+?)\s*$/gm)) {
    const base = (heading as string)
      .toLowerCase()
      .replace(/[^\p{L}\p{N}\s_-]/gu, '')
      .replace(/ /g, '-');
    const n = seen.get(base) ?? 0;
    seen.set(base, n + 1);
    out.add(n === 0 ? base : `${base}-${n}`);
  }
  return out;
}

function links(markdown: string): string[] {
  const text = markdown
    .replace(/```[\s\S]*?```/g, '')
    .replace(/`[^`\n]*`/g, (code) => (code.includes('](') ? '' : code));
  return [...text.matchAll(/\]\(([^)\s]+)\)/g)].map((m) => m[1] as string).filter((href) => !/^[a-z]+:/i.test(href));
}

test.each(pages)('%s: every relative link and anchor resolves', (page) => {
  const source = readFileSync(join(root, page), 'utf8');
  const broken: string[] = [];
  for (const href of links(source)) {
    const [path = '', anchor] = href.split('#');
    const target = path === '' ? join(root, page) : join(dirname(join(root, page)), path);
    if (!existsSync(target)) {
      broken.push(`${href} (no ${relative(root, target)})`);
      continue;
    }
    if (
      anchor !== undefined &&
      statSync(target).isFile() &&
      target.endsWith('.md') &&
      !anchors(readFileSync(target, 'utf8')).has(anchor)
    ) {
      broken.push(`${href} (no heading #${anchor} in ${relative(root, target)})`);
    }
  }
  expect(broken).toEqual([]);
});

test.each(readdirSync(join(root, 'docs')).filter((f) => f.endsWith('.md') && f !== 'README.md'))(
  'docs/%s is linked from README.md and docs/README.md',
  (page) => {
    const linksTo = (file: string, href: string): boolean =>
      links(readFileSync(join(root, file), 'utf8')).includes(href);
    expect({ readme: linksTo('README.md', `docs/${page}`), index: linksTo('docs/README.md', page) }).toEqual({
      readme: true,
      index: true,
    });
  },
);
