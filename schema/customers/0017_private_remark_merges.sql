-- An employee's private remark names on customers merged into this one, where they had a remark
-- here too (theirs here wins): kept with their remark, shown to them only, never in the merge
-- record (which the whole tenant reads).
ALTER TABLE customers.private_remarks ADD COLUMN merged_names text[] NOT NULL DEFAULT '{}';
