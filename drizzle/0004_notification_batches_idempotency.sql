CREATE TABLE "notification_batches" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"event_id" uuid NOT NULL,
	"event" jsonb NOT NULL,
	"range_from" uuid,
	"range_to" uuid,
	"created_at" timestamp (3) with time zone DEFAULT now() NOT NULL,
	"queued_at" timestamp (3) with time zone DEFAULT now() NOT NULL,
	"done_at" timestamp (3) with time zone,
	"mailed_at" timestamp (3) with time zone
);
--> statement-breakpoint
CREATE TABLE "idempotency_keys" (
	"user_id" uuid NOT NULL,
	"operation" text NOT NULL,
	"key" text NOT NULL,
	"entity_id" uuid NOT NULL,
	"created_at" timestamp (3) with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "idempotency_keys_pkey" PRIMARY KEY("user_id","operation","key")
);
--> statement-breakpoint
ALTER TABLE "notifications" ADD COLUMN "email_claimed_by" uuid;--> statement-breakpoint
CREATE INDEX "notification_batches_event_id_idx" ON "notification_batches" USING btree ("event_id");--> statement-breakpoint
CREATE INDEX "notification_batches_unfinished_idx" ON "notification_batches" USING btree ("queued_at") WHERE "notification_batches"."mailed_at" is null;--> statement-breakpoint
CREATE INDEX "notification_batches_created_at_idx" ON "notification_batches" USING btree ("created_at");--> statement-breakpoint
CREATE INDEX "idempotency_keys_created_at_idx" ON "idempotency_keys" USING btree ("created_at");