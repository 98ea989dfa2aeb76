-- Where a browser session was started from, for the person's list of their sessions: the
-- client address of the sign-in and the browser's User-Agent (at most 400 characters).
ALTER TABLE sessions ADD COLUMN ip TEXT;
ALTER TABLE sessions ADD COLUMN user_agent TEXT;
