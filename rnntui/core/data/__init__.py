"""Text in: reading a file (UTF-8, streamed), the vocabulary, the encoded-id cache, the built-in corpora,
the train/validation split, the batch streams and the corpus fingerprint. A new corpus source or a change to
how text becomes ids goes here."""
