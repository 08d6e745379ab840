package browse

import (
	"path"
	"strings"
)

// CleanFolder normalises a folder as people type it ("maps/", "/maps",
// "./maps/tiles") to the share-relative form listings use ("maps",
// "maps/tiles"); "" is the top of the shares.
func CleanFolder(folder string) string {
	folder = strings.Trim(path.Clean("/"+strings.ReplaceAll(folder, `\`, "/")), "/")
	return folder
}

// Under returns the files of list below folder (all of them for ""), in
// list order. folder is compared after CleanFolder.
func Under(list []Entry, folder string) []Entry {
	folder = CleanFolder(folder)
	if folder == "" {
		return list
	}
	var out []Entry
	for _, e := range list {
		if strings.HasPrefix(e.Path, folder+"/") {
			out = append(out, e)
		}
	}
	return out
}

// FolderOf is the folder a share-relative path is in ("" at the top).
func FolderOf(p string) string {
	if i := strings.LastIndexByte(p, '/'); i >= 0 {
		return p[:i]
	}
	return ""
}
