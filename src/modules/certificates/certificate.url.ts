import type { Config } from '../../config/config.js';

/**
 * Where a certificate's PDF is served: PUBLIC_URL's origin (the API as clients reach it), or
 * this server's own address when none is configured. Workers print it in PDFs and emails, so
 * it comes from configuration rather than from a request.
 */
export function certificatePdfUrl(config: Pick<Config, 'http'>): (code: string) => string {
  const origin = config.http.publicUrl
    ? new URL(config.http.publicUrl).origin
    : `http://localhost:${config.http.port || 4000}`;
  return (code) => `${origin}/certificates/${encodeURIComponent(code)}.pdf`;
}
