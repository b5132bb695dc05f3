/**
 * A strict, small XML 1.0 reader for the Designer dump: it accepts what the Designer writes (a
 * declaration, elements, attributes, text, comments, the five entities and character references)
 * and rejects everything else with the line of the problem. It keeps element order, the
 * indentation before each start tag and the namespace prefixes in scope.
 */

export interface XmlElement {
  name: string;
  attributes: Record<string, string>;
  children: XmlElement[];
  /** The element's own text (entities decoded), child elements' text excluded. */
  text: string;
  line: number;
  depth: number;
  /** Whitespace between the previous line break and `<`, or undefined when the tag does not start a line. */
  indent: string | undefined;
  /** Namespace prefix → URI in scope at this element ('' is the default namespace). */
  namespaces: Record<string, string>;
  parent: XmlElement | undefined;
}

export class XmlError extends Error {}

const NAME = /^[A-Za-z_][A-Za-z0-9_.-]*(:[A-Za-z_][A-Za-z0-9_.-]*)?$/;
const ENTITIES: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" };

function decode(raw: string, line: number): string {
  return raw.replace(/&([^;&\s]*);|&/g, (match, entity: string | undefined) => {
    if (entity === undefined) throw new XmlError(`line ${line}: '&' that starts no entity reference`);
    if (entity in ENTITIES) return ENTITIES[entity] as string;
    const reference = /^#(?:x([0-9A-Fa-f]+)|([0-9]+))$/.exec(entity);
    if (reference === null) throw new XmlError(`line ${line}: unknown entity &${entity};`);
    const code = reference[1] !== undefined ? Number.parseInt(reference[1], 16) : Number(reference[2]);
    if (code === 0 || code > 0x10ffff) throw new XmlError(`line ${line}: invalid character reference ${match}`);
    return String.fromCodePoint(code);
  });
}

function prefixOf(qualified: string): string {
  const colon = qualified.indexOf(':');
  return colon === -1 ? '' : qualified.slice(0, colon);
}

/** Parses a document; throws XmlError naming the line of the first problem. */
export function parseXml(source: string): XmlElement {
  let position = 0;
  let line = 1;
  const advance = (to: number) => {
    for (let index = position; index < to; index += 1) if (source.charCodeAt(index) === 10) line += 1;
    position = to;
  };
  const fail = (message: string): never => {
    throw new XmlError(`line ${line}: ${message}`);
  };

  const declaration = /^<\?xml version="1\.0" encoding="UTF-8"\?>/.exec(source);
  if (declaration === null) fail('the document must start with <?xml version="1.0" encoding="UTF-8"?>');
  advance((declaration as RegExpExecArray)[0].length);

  let root: XmlElement | undefined;
  const stack: XmlElement[] = [];
  while (position < source.length) {
    const next = source.indexOf('<', position);
    const textEnd = next === -1 ? source.length : next;
    const text = source.slice(position, textEnd);
    const current = stack.at(-1);
    if (current === undefined) {
      if (text.trim() !== '') fail('text outside the root element');
    } else {
      current.text += decode(text, line);
    }
    advance(textEnd);
    if (next === -1) break;

    if (source.startsWith('<!--', position)) {
      const end = source.indexOf('-->', position + 4);
      if (end === -1) fail('unclosed comment');
      if (source.slice(position + 4, end).includes('--')) fail("'--' inside a comment");
      advance(end + 3);
      continue;
    }
    if (source.startsWith('<!', position) || source.startsWith('<?', position)) {
      fail('DOCTYPE, CDATA and processing instructions do not occur in Designer dumps');
    }
    const end = source.indexOf('>', position);
    if (end === -1) fail('unclosed tag');
    const tag = source.slice(position + 1, end);
    const lineStart = source.lastIndexOf('\n', position - 1) + 1;
    const before = source.slice(lineStart, position);
    const indent = /^[ \t]*$/.test(before) ? before : undefined;
    const tagLine = line;
    advance(end + 1);

    if (tag.startsWith('/')) {
      const name = tag.slice(1).trimEnd();
      const open = stack.pop();
      if (open === undefined) fail(`closing </${name}> without an open element`);
      if ((open as XmlElement).name !== name) fail(`</${name}> closes <${(open as XmlElement).name}>`);
      continue;
    }
    const selfClosing = tag.endsWith('/');
    const body = selfClosing ? tag.slice(0, -1) : tag;
    const nameMatch = /^([^\s/>]+)/.exec(body);
    if (nameMatch === null || !NAME.test(nameMatch[1] as string)) fail(`bad element name in <${tag}>`);
    const name = (nameMatch as RegExpExecArray)[1] as string;
    const attributes: Record<string, string> = {};
    let rest = body.slice(name.length);
    while (rest.trim() !== '') {
      const attribute = /^\s+([^\s=]+)\s*=\s*(?:"([^"<]*)"|'([^'<]*)')/.exec(rest);
      if (attribute === null) fail(`malformed attributes in <${name}>: ${rest.trim()}`);
      const [whole, attributeName, double, single] = attribute as RegExpExecArray;
      if (!NAME.test(attributeName as string)) fail(`bad attribute name ${attributeName}`);
      if ((attributeName as string) in attributes) fail(`duplicate attribute ${attributeName} in <${name}>`);
      attributes[attributeName as string] = decode((double ?? single) as string, tagLine);
      rest = rest.slice(whole.length);
    }

    const parent = stack.at(-1);
    if (parent === undefined && root !== undefined) fail('a second root element');
    const namespaces = { ...(parent?.namespaces ?? { xml: 'http://www.w3.org/XML/1998/namespace' }) };
    for (const [attributeName, value] of Object.entries(attributes)) {
      if (attributeName === 'xmlns') namespaces[''] = value;
      else if (attributeName.startsWith('xmlns:')) namespaces[attributeName.slice(6)] = value;
    }
    const element: XmlElement = {
      name,
      attributes,
      children: [],
      text: '',
      line: tagLine,
      depth: stack.length,
      indent,
      namespaces,
      parent,
    };
    const used = [
      prefixOf(name),
      ...Object.keys(attributes)
        .filter((key) => !key.startsWith('xmlns'))
        .map(prefixOf),
    ];
    for (const prefix of used) {
      if (prefix !== '' && !(prefix in namespaces)) fail(`undeclared namespace prefix '${prefix}' in <${name}>`);
    }
    if (parent === undefined) root = element;
    else parent.children.push(element);
    if (!selfClosing) stack.push(element);
  }
  if (stack.length > 0) fail(`<${stack.at(-1)?.name}> is never closed`);
  if (root === undefined) fail('no root element');
  return root as XmlElement;
}

/** The direct children with one name. */
export function childrenNamed(element: XmlElement, name: string): XmlElement[] {
  return element.children.filter((child) => child.name === name);
}

/** The one direct child with this name; throws when it is missing or repeated. */
export function child(element: XmlElement, name: string): XmlElement {
  const found = childrenNamed(element, name);
  if (found.length !== 1) throw new Error(`<${element.name}> line ${element.line} has ${found.length} <${name}>`);
  return found[0] as XmlElement;
}

/** Every element of the tree, depth first, the element itself included. */
export function descendants(element: XmlElement): XmlElement[] {
  return [element, ...element.children.flatMap(descendants)];
}

/** The Russian content of a multilingual property (`<v8:item><v8:lang>ru</v8:lang><v8:content>…`). */
export function russian(element: XmlElement): string | undefined {
  for (const item of childrenNamed(element, 'v8:item')) {
    if (child(item, 'v8:lang').text === 'ru') return child(item, 'v8:content').text;
  }
  return undefined;
}
