ALTER TYPE "public"."notification_kind" ADD VALUE 'REVIEW_POSTED';--> statement-breakpoint
ALTER TYPE "public"."notification_kind" ADD VALUE 'COURSE_ACCESS_GRANTED';--> statement-breakpoint
CREATE TABLE "categories" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"slug" text NOT NULL,
	"name" text NOT NULL,
	"description" text,
	"created_at" timestamp (3) with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp (3) with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "categories_slug_check" CHECK ("categories"."slug" ~ '^[a-z0-9]+(-[a-z0-9]+)*$'),
	CONSTRAINT "categories_name_check" CHECK (char_length("categories"."name") between 1 and 100)
);
--> statement-breakpoint
CREATE TABLE "sections" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"course_id" uuid NOT NULL,
	"title" text NOT NULL,
	"position" integer NOT NULL,
	"created_at" timestamp (3) with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp (3) with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "sections_position_check" CHECK ("sections"."position" >= 0),
	CONSTRAINT "sections_title_check" CHECK (char_length("sections"."title") between 1 and 200)
);
--> statement-breakpoint
CREATE TABLE "reviews" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"course_id" uuid NOT NULL,
	"author_id" uuid NOT NULL,
	"rating" integer NOT NULL,
	"body" text,
	"instructor_reply" text,
	"instructor_replied_at" timestamp (3) with time zone,
	"hidden" boolean DEFAULT false NOT NULL,
	"created_at" timestamp (3) with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp (3) with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "reviews_rating_check" CHECK ("reviews"."rating" between 1 and 5),
	CONSTRAINT "reviews_body_check" CHECK (char_length("reviews"."body") <= 5000),
	CONSTRAINT "reviews_instructor_reply_check" CHECK (char_length("reviews"."instructor_reply") <= 2000)
);
--> statement-breakpoint
CREATE TABLE "entitlements" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"course_id" uuid NOT NULL,
	"student_id" uuid NOT NULL,
	"source" text NOT NULL,
	"granted_by" uuid,
	"checkout_session_id" text,
	"payment_intent_id" text,
	"granted_at" timestamp (3) with time zone DEFAULT now() NOT NULL,
	"revoked_at" timestamp (3) with time zone,
	"created_at" timestamp (3) with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "entitlements_source_check" CHECK ("entitlements"."source" in ('PURCHASE', 'GRANT'))
);
--> statement-breakpoint
CREATE TABLE "stripe_events" (
	"id" text PRIMARY KEY NOT NULL,
	"type" text NOT NULL,
	"received_at" timestamp (3) with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
ALTER TABLE "courses" ADD COLUMN "category_id" uuid;--> statement-breakpoint
ALTER TABLE "courses" ADD COLUMN "rating_count" integer DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE "courses" ADD COLUMN "rating_sum" integer DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE "courses" ADD COLUMN "rating_histogram" integer[] DEFAULT '{0,0,0,0,0}'::int[] NOT NULL;--> statement-breakpoint
ALTER TABLE "courses" ADD COLUMN "active_enrollment_count" integer DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE "courses" ADD COLUMN "rating_order_desc" integer GENERATED ALWAYS AS (coalesce(case when rating_count = 0 then null
  else round(rating_sum * 100.0 / rating_count)::int * 1000000 + least(rating_count, 999999) end, -1)) STORED NOT NULL;--> statement-breakpoint
ALTER TABLE "courses" ADD COLUMN "rating_order_asc" integer GENERATED ALWAYS AS (coalesce(case when rating_count = 0 then null
  else round(rating_sum * 100.0 / rating_count)::int * 1000000 + least(rating_count, 999999) end, 2147483647)) STORED NOT NULL;--> statement-breakpoint
ALTER TABLE "lessons" ADD COLUMN "section_id" uuid;--> statement-breakpoint
ALTER TABLE "lessons" ADD COLUMN "section_rank" integer DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE "lessons" ADD COLUMN "curriculum_key" integer GENERATED ALWAYS AS (section_rank * 65536 + position) STORED NOT NULL;--> statement-breakpoint
ALTER TABLE "sections" ADD CONSTRAINT "sections_course_id_fkey" FOREIGN KEY ("course_id") REFERENCES "public"."courses"("id") ON DELETE cascade ON UPDATE cascade;--> statement-breakpoint
ALTER TABLE "reviews" ADD CONSTRAINT "reviews_course_id_fkey" FOREIGN KEY ("course_id") REFERENCES "public"."courses"("id") ON DELETE cascade ON UPDATE cascade;--> statement-breakpoint
ALTER TABLE "reviews" ADD CONSTRAINT "reviews_author_id_fkey" FOREIGN KEY ("author_id") REFERENCES "public"."users"("id") ON DELETE cascade ON UPDATE cascade;--> statement-breakpoint
ALTER TABLE "entitlements" ADD CONSTRAINT "entitlements_course_id_fkey" FOREIGN KEY ("course_id") REFERENCES "public"."courses"("id") ON DELETE cascade ON UPDATE cascade;--> statement-breakpoint
ALTER TABLE "entitlements" ADD CONSTRAINT "entitlements_student_id_fkey" FOREIGN KEY ("student_id") REFERENCES "public"."users"("id") ON DELETE cascade ON UPDATE cascade;--> statement-breakpoint
ALTER TABLE "entitlements" ADD CONSTRAINT "entitlements_granted_by_fkey" FOREIGN KEY ("granted_by") REFERENCES "public"."users"("id") ON DELETE set null ON UPDATE cascade;--> statement-breakpoint
CREATE UNIQUE INDEX "categories_slug_key" ON "categories" USING btree ("slug");--> statement-breakpoint
CREATE UNIQUE INDEX "categories_name_lower_key" ON "categories" USING btree (lower("name"));--> statement-breakpoint
CREATE INDEX "sections_course_id_position_idx" ON "sections" USING btree ("course_id","position","id");--> statement-breakpoint
CREATE UNIQUE INDEX "reviews_course_id_author_id_key" ON "reviews" USING btree ("course_id","author_id");--> statement-breakpoint
CREATE INDEX "reviews_course_id_created_at_id_idx" ON "reviews" USING btree ("course_id","created_at","id");--> statement-breakpoint
CREATE INDEX "reviews_course_id_rating_id_idx" ON "reviews" USING btree ("course_id","rating","id");--> statement-breakpoint
CREATE INDEX "reviews_author_id_idx" ON "reviews" USING btree ("author_id");--> statement-breakpoint
CREATE UNIQUE INDEX "entitlements_active_student_course_key" ON "entitlements" USING btree ("student_id","course_id") WHERE "entitlements"."revoked_at" is null;--> statement-breakpoint
CREATE UNIQUE INDEX "entitlements_checkout_session_id_key" ON "entitlements" USING btree ("checkout_session_id");--> statement-breakpoint
CREATE INDEX "entitlements_payment_intent_id_idx" ON "entitlements" USING btree ("payment_intent_id");--> statement-breakpoint
CREATE INDEX "entitlements_course_id_idx" ON "entitlements" USING btree ("course_id");--> statement-breakpoint
CREATE INDEX "entitlements_granted_by_idx" ON "entitlements" USING btree ("granted_by");--> statement-breakpoint
ALTER TABLE "courses" ADD CONSTRAINT "courses_category_id_fkey" FOREIGN KEY ("category_id") REFERENCES "public"."categories"("id") ON DELETE set null ON UPDATE cascade;--> statement-breakpoint
ALTER TABLE "lessons" ADD CONSTRAINT "lessons_section_id_fkey" FOREIGN KEY ("section_id") REFERENCES "public"."sections"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "courses_category_id_created_at_id_idx" ON "courses" USING btree ("category_id","created_at","id");--> statement-breakpoint
CREATE INDEX "courses_rating_order_desc_id_idx" ON "courses" USING btree ("rating_order_desc","id");--> statement-breakpoint
CREATE INDEX "courses_rating_order_asc_id_idx" ON "courses" USING btree ("rating_order_asc","id");--> statement-breakpoint
CREATE INDEX "courses_active_enrollment_count_id_idx" ON "courses" USING btree ("active_enrollment_count","id");--> statement-breakpoint
CREATE INDEX "lessons_course_id_curriculum_key_id_idx" ON "lessons" USING btree ("course_id","curriculum_key","id");--> statement-breakpoint
CREATE INDEX "lessons_section_id_position_id_idx" ON "lessons" USING btree ("section_id","position","id");--> statement-breakpoint
ALTER TABLE "courses" ADD CONSTRAINT "courses_rating_check" CHECK ("courses"."rating_count" >= 0 and "courses"."rating_sum" >= 0);--> statement-breakpoint
ALTER TABLE "lessons" ADD CONSTRAINT "lessons_section_rank_check" CHECK ("lessons"."section_rank" >= 0 and "lessons"."position" < 65536);--> statement-breakpoint
-- Existing lessons: positions contiguous from 0 per course (all of them start without a section).
UPDATE "lessons" l SET "position" = r.pos FROM (
  SELECT "id", (row_number() OVER (PARTITION BY "course_id" ORDER BY "position", "id") - 1)::int AS pos FROM "lessons"
) r WHERE l."id" = r."id" AND l."position" <> r.pos;--> statement-breakpoint
-- A course's active enrollments, kept in the writing transaction (POPULARITY orders by it).
CREATE FUNCTION "courses_count_active_enrollments"() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP IN ('UPDATE', 'DELETE') AND OLD."status" = 'ACTIVE' THEN
    UPDATE "courses" SET "active_enrollment_count" = "active_enrollment_count" - 1 WHERE "id" = OLD."course_id";
  END IF;
  IF TG_OP IN ('INSERT', 'UPDATE') AND NEW."status" = 'ACTIVE' THEN
    UPDATE "courses" SET "active_enrollment_count" = "active_enrollment_count" + 1 WHERE "id" = NEW."course_id";
  END IF;
  RETURN NULL;
END $$;--> statement-breakpoint
CREATE TRIGGER "enrollments_count_active" AFTER INSERT OR DELETE OR UPDATE OF "status", "course_id" ON "enrollments"
  FOR EACH ROW EXECUTE FUNCTION "courses_count_active_enrollments"();--> statement-breakpoint
UPDATE "courses" c SET "active_enrollment_count" = e.n FROM (
  SELECT "course_id", count(*)::int AS n FROM "enrollments" WHERE "status" = 'ACTIVE' GROUP BY "course_id"
) e WHERE c."id" = e."course_id";--> statement-breakpoint
-- A course's rating summary (count, sum, histogram of its visible reviews), kept in the
-- review's transaction by increments: concurrent reviews of one course serialise on its row.
CREATE FUNCTION "courses_summarize_reviews"() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP IN ('UPDATE', 'DELETE') AND NOT OLD."hidden" THEN
    UPDATE "courses" SET "rating_count" = "rating_count" - 1, "rating_sum" = "rating_sum" - OLD."rating",
      "rating_histogram"[OLD."rating"] = "rating_histogram"[OLD."rating"] - 1
      WHERE "id" = OLD."course_id";
  END IF;
  IF TG_OP IN ('INSERT', 'UPDATE') AND NOT NEW."hidden" THEN
    UPDATE "courses" SET "rating_count" = "rating_count" + 1, "rating_sum" = "rating_sum" + NEW."rating",
      "rating_histogram"[NEW."rating"] = "rating_histogram"[NEW."rating"] + 1
      WHERE "id" = NEW."course_id";
  END IF;
  RETURN NULL;
END $$;--> statement-breakpoint
CREATE TRIGGER "reviews_summarize" AFTER INSERT OR DELETE OR UPDATE OF "rating", "hidden", "course_id" ON "reviews"
  FOR EACH ROW EXECUTE FUNCTION "courses_summarize_reviews"();
