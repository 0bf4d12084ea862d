import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * A local STAND-IN for Stripe's API, not Stripe: it implements only `POST /v1/checkout/sessions`
 * (everything else is 404) and checks the form-encoded parameters the official SDK sends, so
 * checkout creation is tested without the network. Requests it accepted are kept in `created`.
 */
export interface StripeStandIn {
  readonly url: string;
  /** The form parameters of every session created, flattened as the SDK encodes them. */
  readonly created: Array<Record<string, string>>;
  /** Answer every request with 500 from now on (the provider is down). */
  failing: boolean;
  close(): Promise<void>;
}

/** The parameters a checkout must send, with the value they must have (a RegExp: a pattern). */
const REQUIRED: Record<string, RegExp> = {
  mode: /^payment$/,
  'line_items[0][quantity]': /^1$/,
  'line_items[0][price_data][currency]': /^[a-z]{3}$/,
  'line_items[0][price_data][unit_amount]': /^[1-9]\d*$/,
  'line_items[0][price_data][product_data][name]': /./,
  client_reference_id: /./,
  'metadata[studentId]': /./,
  'metadata[courseId]': /./,
  'payment_intent_data[metadata][studentId]': /./,
  'payment_intent_data[metadata][courseId]': /./,
  success_url: /^https?:\/\/.+\{CHECKOUT_SESSION_ID\}/,
  cancel_url: /^https?:\/\//,
};

export async function startStripeStandIn(secretKey: string): Promise<StripeStandIn> {
  const created: Array<Record<string, string>> = [];
  let count = 0;
  const state = { failing: false };
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const send = (status: number, body: object) => {
        res.writeHead(status, { 'content-type': 'application/json', 'request-id': `req_standin_${count}` });
        res.end(JSON.stringify(body));
      };
      const error = (status: number, message: string, param?: string) =>
        send(status, { error: { type: 'invalid_request_error', message, ...(param ? { param } : {}) } });
      if (state.failing) return send(500, { error: { type: 'api_error', message: 'stand-in is failing' } });
      if (req.method !== 'POST' || req.url !== '/v1/checkout/sessions') return error(404, 'Unrecognized request URL');
      if (req.headers.authorization !== `Bearer ${secretKey}`) return error(401, 'Invalid API Key provided');
      if (!String(req.headers['content-type']).startsWith('application/x-www-form-urlencoded'))
        return error(400, 'Expected a form-encoded body');
      const params = Object.fromEntries(new URLSearchParams(Buffer.concat(chunks).toString('utf8')));
      for (const [name, pattern] of Object.entries(REQUIRED)) {
        if (!pattern.test(params[name] ?? '')) return error(400, `Missing or invalid parameter: ${name}`, name);
      }
      created.push(params);
      const id = `cs_test_standin_${++count}`;
      const expiresAt = Math.floor(Date.now() / 1000) + 24 * 3600;
      send(200, {
        id,
        object: 'checkout.session',
        mode: 'payment',
        status: 'open',
        payment_status: 'unpaid',
        payment_intent: null,
        client_reference_id: params.client_reference_id,
        metadata: { studentId: params['metadata[studentId]'], courseId: params['metadata[courseId]'] },
        amount_total: Number(params['line_items[0][price_data][unit_amount]']),
        currency: params['line_items[0][price_data][currency]'],
        success_url: params.success_url,
        cancel_url: params.cancel_url,
        expires_at: expiresAt,
        url: `https://checkout.stripe.test/c/pay/${id}`,
      });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    created,
    get failing() {
      return state.failing;
    },
    set failing(v: boolean) {
      state.failing = v;
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
