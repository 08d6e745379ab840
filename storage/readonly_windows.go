package storage

// badgerReadOnly reports whether badger can open a database read-only on
// this platform. On Windows it cannot (it locks the directory for writing
// in every mode), so a read-only Store opens the database read-write and
// refuses writes itself with ErrReadOnly, and only one process at a time
// may open a data dir.
const badgerReadOnly = false
