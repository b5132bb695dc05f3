/** A base64 `data:` URL's parts: its media type (lower case) and its base64 text (whitespace removed). */
export interface DataUrl {
  mimeType: string;
  data: string;
}

/** `data:<type>[;param=value…];base64,<data>` → its parts, or undefined if it is not such a URL. */
export function parseDataUrl(url: string): DataUrl | undefined {
  const match = /^data:([\w.+-]+\/[\w.+-]+)(?:;[\w-]+=[^;,]*)*;base64,([A-Za-z0-9+/=\s]+)$/.exec(url);
  if (match === null) return undefined;
  const data = (match[2] as string).replace(/\s/g, '');
  return data === '' ? undefined : { mimeType: (match[1] as string).toLowerCase(), data };
}
