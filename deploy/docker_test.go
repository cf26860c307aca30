package deploy

import (
	"bufio"
	"bytes"
	"fmt"
	"path"
	"regexp"
	"slices"
	"strconv"
	"strings"
)

// instruction is one Dockerfile instruction, continuation lines joined.
type instruction struct {
	cmd  string // upper case: FROM, RUN, ...
	args string
}

// stage is one FROM and the instructions that follow it.
type stage struct {
	from         string // the FROM line's arguments
	image        string
	instructions []instruction
}

// parseDockerfile splits a Dockerfile into stages.
func parseDockerfile(data []byte) []stage {
	var stages []stage
	var line strings.Builder
	sc := bufio.NewScanner(bytes.NewReader(data))
	flush := func() {
		text := strings.TrimSpace(line.String())
		line.Reset()
		cmd, args, _ := strings.Cut(text, " ")
		cmd = strings.ToUpper(cmd)
		args = strings.TrimSpace(args)
		switch {
		case cmd == "":
		case cmd == "FROM":
			image := ""
			for _, f := range strings.Fields(args) {
				if !strings.HasPrefix(f, "--") {
					image = f
					break
				}
			}
			stages = append(stages, stage{from: args, image: image})
		case len(stages) > 0:
			s := &stages[len(stages)-1]
			s.instructions = append(s.instructions, instruction{cmd, args})
		}
	}
	for sc.Scan() {
		text := sc.Text()
		if strings.HasPrefix(strings.TrimSpace(text), "#") {
			continue
		}
		if body, ok := strings.CutSuffix(strings.TrimRight(text, " \t"), `\`); ok {
			line.WriteString(body + " ")
			continue
		}
		line.WriteString(text)
		flush()
	}
	flush()
	return stages
}

// pinnedGo is a Go image pinned by version and digest.
var pinnedGo = regexp.MustCompile(`^golang:([0-9]+)\.([0-9]+)\.([0-9]+)(-[a-z0-9.]+)?@sha256:[0-9a-f]{64}$`)

// goDirective is go.mod's go line.
var goDirective = regexp.MustCompile(`(?m)^go ([0-9]+)\.([0-9]+)(?:\.([0-9]+))?\s*$`)

// checkDockerfile checks that the image builds for any target platform from a pinned Go image,
// and that the image it makes has no shell, runs as non-root and can write its state.
func checkDockerfile(data, gomod []byte) []error {
	var errs []error
	fail := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }
	stages := parseDockerfile(data)
	if len(stages) < 2 {
		return []error{fmt.Errorf("%d stages: want a build stage and a final stage", len(stages))}
	}
	build, final := stages[0], stages[len(stages)-1]

	// The build stage runs on the builder's platform and cross-compiles for the target.
	if !strings.Contains(build.from, "--platform=$BUILDPLATFORM") && !strings.Contains(build.from, "--platform=${BUILDPLATFORM}") {
		fail("build stage FROM %s: want --platform=$BUILDPLATFORM (else an image built on an ARM laptop is emulated, or fails on amd64 nodes)", build.from)
	}
	args := map[string]bool{}
	goBuild := ""
	for _, in := range build.instructions {
		switch in.cmd {
		case "ARG":
			name, _, _ := strings.Cut(in.args, "=")
			args[name] = true
		case "RUN":
			if strings.Contains(in.args, "go build") {
				goBuild = in.args
			}
		}
	}
	for _, a := range []string{"TARGETOS", "TARGETARCH"} {
		if !args[a] {
			fail("build stage: no ARG %s", a)
		}
	}
	if !strings.Contains(goBuild, "CGO_ENABLED=0") {
		fail("go build %q: want CGO_ENABLED=0 (a static binary for distroless/static)", goBuild)
	}
	for _, v := range [][2]string{{"GOOS", "TARGETOS"}, {"GOARCH", "TARGETARCH"}} {
		if !strings.Contains(goBuild, v[0]+"=$"+v[1]) && !strings.Contains(goBuild, v[0]+"=${"+v[1]+"}") {
			fail("go build %q: want %s=$%s", goBuild, v[0], v[1])
		}
	}

	// The Go image: pinned by version and digest, and not older than go.mod asks for.
	m := pinnedGo.FindStringSubmatch(build.image)
	mod := goDirective.FindSubmatch(gomod)
	switch {
	case m == nil:
		fail("build stage image %s: want golang:<major.minor.patch>[-variant]@sha256:<digest>", build.image)
	case mod == nil:
		fail("go.mod has no go line")
	default:
		image := []string{m[1], m[2], m[3]}
		want := []string{string(mod[1]), string(mod[2]), string(mod[3])}
		if compareVersions(image, want) < 0 {
			fail("build stage image Go %s is older than go.mod's go %s", strings.Join(image, "."), strings.Join(want, "."))
		}
	}

	// The final image: distroless static, not a debug variant (those have a busybox shell).
	switch {
	case final.image == "scratch":
	case !strings.HasPrefix(final.image, "gcr.io/distroless/static"):
		fail("final image %s: want gcr.io/distroless/static (no shell, no package manager)", final.image)
	case strings.Contains(final.image, "debug"):
		fail("final image %s: a debug variant, which has a shell", final.image)
	}
	env := map[string]string{}
	user := ""
	for _, in := range final.instructions {
		switch in.cmd {
		case "RUN":
			fail("final stage RUN %s: the final image has no shell to run it", in.args)
		case "USER":
			user = in.args
		case "ENV":
			for k, v := range parseEnv(in.args) {
				env[k] = v
			}
		}
	}
	uid, _, _ := strings.Cut(user, ":")
	if n, err := strconv.Atoi(uid); uid != "nonroot" && (err != nil || n == 0) {
		fail("USER %q: want a numeric non-root user (Kubernetes checks runAsNonRoot by number)", user)
	}
	for _, name := range []string{"XDG_STATE_HOME", "TMPDIR"} {
		if !strings.HasPrefix(env[name], "/") {
			fail("final stage: ENV %s is not set to a directory (the default history path and SQLite's temporary files need one)", name)
		}
	}
	if state := env["XDG_STATE_HOME"]; state != "" && !slices.ContainsFunc(final.instructions, func(in instruction) bool {
		f := strings.Fields(in.args)
		return in.cmd == "COPY" && len(f) > 0 && f[len(f)-1] == state && strings.Contains(in.args, "--chown="+uid)
	}) {
		fail("final stage: XDG_STATE_HOME %s is not a directory the user %s owns (COPY --chown=%s … %s)", state, uid, uid, state)
	}
	return errs
}

// parseEnv reads ENV's key=value pairs, or its legacy "key value" form.
func parseEnv(args string) map[string]string {
	out := map[string]string{}
	fields := strings.Fields(args)
	if len(fields) > 0 && !strings.Contains(fields[0], "=") {
		out[fields[0]] = strings.Join(fields[1:], " ")
		return out
	}
	for _, f := range fields {
		if k, v, ok := strings.Cut(f, "="); ok {
			out[k] = strings.Trim(v, `"`)
		}
	}
	return out
}

// compareVersions compares dotted versions given as their numbers (a missing one is 0).
func compareVersions(a, b []string) int {
	for i := range max(len(a), len(b)) {
		x, y := 0, 0
		if i < len(a) {
			x, _ = strconv.Atoi(a[i])
		}
		if i < len(b) {
			y, _ = strconv.Atoi(b[i])
		}
		if x != y {
			return x - y
		}
	}
	return 0
}

// writtenByREADME are the files the README's steps write with a shell redirection (service keys).
var writtenByREADME = regexp.MustCompile(`>\s*([A-Za-z0-9_.-]+\.json)\b`)

// checkIgnores checks that the image's build context leaves out .git and every service key, and
// that git ignores the keys the README's steps write.
func checkIgnores(dockerignore, gitignore, readme []byte) []error {
	var errs []error
	docker := ignoreLines(dockerignore)
	git := ignoreLines(gitignore)
	if !ignored(docker, ".git", true) {
		errs = append(errs, fmt.Errorf(".dockerignore does not leave out .git"))
	}
	keys := map[string]bool{"xsuaa-key.json": true, "connectivity-key.json": true}
	for _, m := range writtenByREADME.FindAllSubmatch(readme, -1) {
		keys[string(m[1])] = true
	}
	for key := range keys {
		for _, at := range []string{key, "deploy/" + key} {
			if !ignored(docker, at, true) {
				errs = append(errs, fmt.Errorf(".dockerignore does not leave out %s (a service key the README writes)", at))
			}
		}
		if !ignored(git, key, false) {
			errs = append(errs, fmt.Errorf(".gitignore does not list %s (a service key the README writes)", key))
		}
	}
	return errs
}

// ignoreLines returns the patterns of a .dockerignore or .gitignore file.
func ignoreLines(data []byte) []string {
	var out []string
	for line := range strings.Lines(string(data)) {
		if line = strings.TrimSpace(line); line != "" && !strings.HasPrefix(line, "#") {
			out = append(out, line)
		}
	}
	return out
}

// ignored reports whether patterns leave out the file (a slash-separated path from the root).
// Docker's patterns are anchored at the root unless they start with **/; git's are anchored
// only when they hold a slash before their end. A directory pattern leaves out what it holds;
// a later ! pattern takes a file back.
func ignored(patterns []string, file string, docker bool) bool {
	out := false
	segs := strings.Split(file, "/")
	for _, p := range patterns {
		neg := strings.HasPrefix(p, "!")
		p = strings.TrimSuffix(strings.TrimPrefix(p, "!"), "/")
		anywhere := strings.HasPrefix(p, "**/") || (!docker && !strings.Contains(p, "/"))
		p = strings.TrimPrefix(strings.TrimPrefix(p, "**/"), "/")
		starts := []int{0}
		if anywhere {
			starts = make([]int, len(segs))
			for i := range segs {
				starts[i] = i
			}
		}
		for _, i := range starts {
			for j := i + 1; j <= len(segs); j++ {
				if ok, _ := path.Match(p, strings.Join(segs[i:j], "/")); ok {
					out = !neg
				}
			}
		}
	}
	return out
}
