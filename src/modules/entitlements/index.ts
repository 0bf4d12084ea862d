// The module's public surface; resolvers are listed in src/resolvers.ts.
export * from './entitlement.type.js';
export * from './entitlement.service.js';
export * from './entitlement.commands.js';
export * from './entitlement.purchases.js';
export * from './checkout.service.js';
export { mountStripeWebhook } from './stripe-webhook.http.js';
