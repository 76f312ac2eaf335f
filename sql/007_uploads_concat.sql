-- tus concatenation: a partial upload ('partial') is an ordinary upload
-- whose bytes, once all in, stay for final uploads to be assembled from
-- instead of becoming a file; a final upload ('final;<upload URLs>', as
-- its creation's Upload-Concat said) is made whole from its partials in
-- its creation request.  NULL for the others.
ALTER TABLE uploads ADD COLUMN concat text
	CHECK (concat = 'partial' OR concat LIKE 'final;%');
