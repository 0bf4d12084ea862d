ALTER TABLE "users" ADD COLUMN "role_changed_at" timestamp (3) with time zone;--> statement-breakpoint
ALTER TABLE "users" ADD COLUMN "previous_role" text;--> statement-breakpoint
CREATE INDEX "users_role_changed_at_idx" ON "users" USING btree ("role_changed_at");--> statement-breakpoint
CREATE INDEX "auth_sessions_revoked_at_idx" ON "auth_sessions" USING btree ("revoked_at");