/** Behind a proxy PUBLIC_URL may carry a path prefix (https://example.com/roster): links keep it. */
export function basePathOf(publicUrl: string): string {
  try {
    return new URL(publicUrl).pathname.replace(/\/+$/, '');
  } catch {
    return '';
  }
}
