-- The active-enrollment count on the course row, kept once per statement instead of once per
-- row: a bulk enrollment of N students into one course updated the same course row N times in
-- one transaction (each update a new row version and index entry), which grew quadratically.
DROP TRIGGER "enrollments_count_active" ON "enrollments";--> statement-breakpoint
DROP FUNCTION "courses_count_active_enrollments"();--> statement-breakpoint
CREATE FUNCTION "courses_count_active_enrollments"() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP IN ('UPDATE', 'DELETE') THEN
    UPDATE "courses" c SET "active_enrollment_count" = c."active_enrollment_count" - d.n FROM (
      SELECT "course_id", count(*)::int AS n FROM "old_rows" WHERE "status" = 'ACTIVE' GROUP BY "course_id"
    ) d WHERE c."id" = d."course_id";
  END IF;
  IF TG_OP IN ('INSERT', 'UPDATE') THEN
    UPDATE "courses" c SET "active_enrollment_count" = c."active_enrollment_count" + d.n FROM (
      SELECT "course_id", count(*)::int AS n FROM "new_rows" WHERE "status" = 'ACTIVE' GROUP BY "course_id"
    ) d WHERE c."id" = d."course_id";
  END IF;
  RETURN NULL;
END $$;--> statement-breakpoint
CREATE TRIGGER "enrollments_count_active_insert" AFTER INSERT ON "enrollments"
  REFERENCING NEW TABLE AS "new_rows" FOR EACH STATEMENT EXECUTE FUNCTION "courses_count_active_enrollments"();--> statement-breakpoint
CREATE TRIGGER "enrollments_count_active_update" AFTER UPDATE ON "enrollments"
  REFERENCING OLD TABLE AS "old_rows" NEW TABLE AS "new_rows" FOR EACH STATEMENT EXECUTE FUNCTION "courses_count_active_enrollments"();--> statement-breakpoint
CREATE TRIGGER "enrollments_count_active_delete" AFTER DELETE ON "enrollments"
  REFERENCING OLD TABLE AS "old_rows" FOR EACH STATEMENT EXECUTE FUNCTION "courses_count_active_enrollments"();
