import { randomUUID } from 'node:crypto';
import type { NextFunction, Request, Response } from 'express';

export const SAFE_REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;

declare module 'express-serve-static-core' {
  interface Request {
    requestId: string;
  }
}

/** Accepts a well-formed `X-Request-ID` from a proxy (else makes one) and echoes it back. */
export function requestId(req: Request, res: Response, next: NextFunction): void {
  const incoming = req.header('x-request-id');
  req.requestId = incoming && SAFE_REQUEST_ID.test(incoming) ? incoming : randomUUID();
  res.setHeader('X-Request-ID', req.requestId);
  next();
}
