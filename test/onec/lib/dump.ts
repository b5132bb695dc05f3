import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type BslModule, parseBsl } from './bsl.ts';
import { parseXml, type XmlElement } from './xml.ts';

/** The repository's onec/ folder. */
export const ONEC = join(dirname(fileURLToPath(import.meta.url)), '../../../onec');
/** The Designer dump ("dump to files", hierarchical layout). */
export const SOURCES = join(ONEC, 'src');
/** The JSON bodies the BSL builds and the answers it parses (see onec/README.md). */
export const FIXTURES = join(ONEC, 'fixtures');

/** Every file under a folder, as paths relative to it with forward slashes. */
export function filesUnder(folder: string): string[] {
  return readdirSync(folder).flatMap((entry) => {
    const path = join(folder, entry);
    return statSync(path).isDirectory()
      ? filesUnder(path).map((inner) => `${entry}/${inner}`)
      : [relative(folder, path).replaceAll('\\', '/')];
  });
}

export function readBytes(path: string): Buffer {
  return readFileSync(join(SOURCES, path));
}

/** A dump file's text without its byte-order mark. */
export function readText(path: string): string {
  return new TextDecoder('utf-8', { fatal: true }).decode(readBytes(path)); // TextDecoder drops the BOM
}

export function readXml(path: string): XmlElement {
  return parseXml(readText(path));
}

export function readBsl(path: string): BslModule {
  return parseBsl(readText(path));
}

/** A JSON fixture beside the BSL. */
export function fixture(name: string): any {
  return JSON.parse(readFileSync(join(FIXTURES, name), 'utf8'));
}

/** A JSON fixture's exact bytes. */
export function fixtureBytes(name: string): Buffer {
  return readFileSync(join(FIXTURES, name));
}

/** The processor's paths, derived from its root file the way the Designer lays them out. */
export interface DumpLayout {
  name: string;
  root: string;
  objectModule: string;
  forms: Array<{ name: string; metadata: string; form: string; module: string }>;
}

export function dumpLayout(): DumpLayout {
  const rootFiles = readdirSync(SOURCES).filter((entry) => entry.endsWith('.xml'));
  if (rootFiles.length !== 1) throw new Error(`onec/src must hold exactly one root XML file, found ${rootFiles}`);
  const root = rootFiles[0] as string;
  const name = root.slice(0, -'.xml'.length);
  // From the file system, not the XML, so a broken file fails its test instead of the test loading.
  const formNames = readdirSync(join(SOURCES, name, 'Forms'))
    .filter((entry) => entry.endsWith('.xml'))
    .map((entry) => entry.slice(0, -'.xml'.length));
  return {
    name,
    root,
    objectModule: `${name}/Ext/ObjectModule.bsl`,
    forms: formNames.map((form) => ({
      name: form,
      metadata: `${name}/Forms/${form}.xml`,
      form: `${name}/Forms/${form}/Ext/Form.xml`,
      module: `${name}/Forms/${form}/Ext/Form/Module.bsl`,
    })),
  };
}
