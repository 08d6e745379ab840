// Package configs owns servent's configuration: servent.yaml (embedded, the
// single source of every key's default and its documentation), the
// layering of flags over environment over file over defaults with viper,
// and the validation that refuses bad values before anything starts.
//
// Imports: role only (the forced role a config names); the packages it
// configures import it through the daemon, never the other way.
package configs
