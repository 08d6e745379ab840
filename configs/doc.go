// Package configs owns servent's configuration: servent.yaml (embedded, the
// single source of every key's default and its documentation), the
// layering of flags over environment over file over defaults with viper,
// and the validation that refuses bad values before anything starts.
package configs
