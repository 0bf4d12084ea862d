import type { Express, Request, Response } from 'express';
import type { Db } from '../../db/client.js';
import type { Logger } from '../../logging/logger.js';
import { normalizeCode } from './certificate.code.js';
import { pdfByCode } from './certificate.repository.js';

/**
 * GET /certificates/<code>.pdf: public, like the code printed on it. 404 for a code that is
 * unknown or revoked (the same answer, so revoked codes cannot be told from made-up ones).
 * Cached by browsers and proxies for five minutes at most, so a revocation shows within that.
 */
export function mountCertificatePdfs(db: Db, log: Logger) {
  return (app: Express): void => {
    app.get('/certificates/:file', async (req: Request, res: Response) => {
      const file = String(req.params.file ?? '');
      const code = file.endsWith('.pdf') ? normalizeCode(file.slice(0, -4)) : null;
      const notFound = () =>
        res
          .status(404)
          .set('cache-control', 'no-store')
          .json({ errors: [{ message: 'Certificate not found', extensions: { code: 'NOT_FOUND' } }] });
      if (!code) return void notFound();
      try {
        const found = await pdfByCode(db, code);
        if (!found) return void notFound();
        res
          .status(200)
          .set({
            'content-type': 'application/pdf',
            'content-disposition': `inline; filename="certificate-${code}.pdf"`,
            'cache-control': 'public, max-age=300',
            'last-modified': found.issuedAt.toUTCString(),
          })
          .send(found.pdf);
      } catch (err) {
        log.error({ err }, 'certificate PDF not served');
        res
          .status(503)
          .set('retry-after', '5')
          .json({ errors: [{ message: 'Try again shortly', extensions: { code: 'SERVICE_UNAVAILABLE' } }] });
      }
    });
  };
}
