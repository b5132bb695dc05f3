/** The words of an error answer that may be an HTML page (a proxy's, say): markup and runs of space removed. */
export function plainText(text: string): string {
  return text
    .replace(/<[^>]*>/g, ' ')
    .replace(/\s+/g, ' ')
    .trim();
}
