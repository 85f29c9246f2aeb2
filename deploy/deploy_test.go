package deploy_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"go/parser"
	"go/token"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/spawn-go/spawn/protocol"
)

// Facts of the Spawn operator (eigr/spawn, spawn_operator) that the files
// must agree with.
const (
	// operatorNamespace is where the operator runs, and where it reads the
	// Secret an ActorSystem's credentialsSecretRef names.
	operatorNamespace = "eigr-functions"
	// operatorProxyPort is the SPAWN_PROXY_PORT the operator gives every
	// host container, whatever the sidecar-http-port annotation says.
	operatorProxyPort = "9001"
	// operatorProxyImage is the proxy image the operator runs when the
	// sidecar-image-tag annotation names none.
	operatorProxyImage = "ghcr.io/eigr/spawn-proxy:2.0.0-RC9"
	// proxyImageRepo is the real proxy's image, without its tag.
	proxyImageRepo = "ghcr.io/eigr/spawn-proxy"
	// annotationPrefix starts every annotation the operator reads.
	annotationPrefix = "spawn-eigr.io/"
)

// operatorAnnotations are the ActorHost annotations the operator reads,
// with their defaults.
var operatorAnnotations = map[string]string{
	"actor-system":                          protocol.DefaultSystem,
	"app-host":                              "0.0.0.0",
	"app-port":                              "8090",
	"cluster-poling-interval":               "3000",
	"sidecar-logger-level":                  "info",
	"sidecar-mode":                          "sidecar",
	"sidecar-http-port":                     "9001",
	"sidecar-http-pool-count":               "8",
	"sidecar-http-pool-size":                "30",
	"sidecar-http-pool-max-idle-timeout":    "1000",
	"sidecar-address":                       "0.0.0.0",
	"sidecar-image-tag":                     operatorProxyImage,
	"sidecar-init-container-image-tag":      "ghcr.io/eigr/spawn-initializer:2.0.0-RC9",
	"sidecar-uds-enabled":                   "false",
	"sidecar-uds-socket-path":               "/var/run/spawn.sock",
	"sidecar-metrics-port":                  "9001",
	"sidecar-metrics-disabled":              "false",
	"sidecar-metrics-log-console":           "true",
	"sidecar-pubsub-adapter":                "native",
	"sidecar-pubsub-nats-hosts":             "nats://127.0.0.1:4222",
	"sidecar-pubsub-nats-tls":               "false",
	"sidecar-pubsub-nats-auth-type":         "simple",
	"sidecar-pubsub-nats-auth":              "false",
	"sidecar-pubsub-nats-auth-jwt":          "",
	"sidecar-pubsub-nats-auth-user":         "admin",
	"sidecar-pubsub-nats-auth-pass":         "admin",
	"sidecar-delayed-invokes":               "true",
	"sidecar-crdt-sync-interval":            "100",
	"sidecar-crdt-ship-interval":            "100",
	"sidecar-crdt-ship-debounce":            "100",
	"sidecar-state-handoff-sync-interval":   "60000",
	"supervisors-state-handoff-controller":  "nats",
	"actors-global-backpressure-max-demand": "-1",
	"actors-global-backpressure-min-demand": "-1",
	"actors-global-backpressure-enabled":    "false",
	"grpc-include-protos-path":              "/shared/protos",
}

// Values the CRD schemas allow.
var (
	statestoreTypes = []string{"Native", "native", "MariaDB", "mariadb", "Postgres", "postgres"}
	hostSDKs        = []string{"dart", "elixir", "go", "java", "python", "rust", "springboot", "nodejs"}
)

// statestoreKeys are the keys of the Secret a credentialsSecretRef names;
// secretKeys are those that must not be written in the repository.
var (
	statestoreKeys = []string{"database", "host", "port", "username", "password", "encryptionKey"}
	secretKeys     = []string{"password", "encryptionKey"}
)

// TestDeploymentFiles checks that the Dockerfile, the compose file and the
// Kubernetes manifests agree with each other, with the Spawn operator and
// with the SDK's defaults. Each check names the file and the field that
// is wrong.
func TestDeploymentFiles(t *testing.T) {
	d := load(t)
	checks := []struct {
		name  string
		check func(*deployment) error
	}{
		{"Dockerfile: the default PACKAGE is a main package of the repository", checkDefaultPackage},
		{"Dockerfile: the host is built static, from PACKAGE", checkStaticBuild},
		{"Dockerfile: the image runs the binary the build made", checkEntrypoint},
		{"Dockerfile: the final image is small", checkFinalBase},
		{"Dockerfile: the image runs as a numeric non-root user", checkUser},
		{"Dockerfile: the Go of the build stage is at least the one go.mod names", checkGoVersion},
		{"compose: the host is built by deploy/Dockerfile", checkComposeBuild},
		{"compose: the host finds the proxy", checkComposeHostToProxy},
		{"compose: the proxy finds the host", checkComposeProxyToHost},
		{"compose: host and proxy serve one actor system", checkComposeSystem},
		{"compose: the proxy finds its database", checkComposeDatabase},
		{"compose: no state store key is written in the file", checkComposeKey},
		{"compose: the proxy's health check and port", checkComposeProxyPorts},
		{"compose: depends_on names services, with health checks", checkComposeDependsOn},
		{"compose and k8s: the same host image and proxy image", checkImages},
		{"k8s: kustomization.yaml lists every manifest but the ActorHost's", checkKustomizationResources},
		{"k8s: the ActorHost's actor system is defined, and the host registers in it", checkHostSystem},
		{"k8s: the app port is where the host listens", checkAppPort},
		{"k8s: the sidecar's port is where the host looks for the proxy", checkSidecarPort},
		{"k8s: the ActorHost's sdk, and annotations the operator knows", checkHostFields},
		{"k8s: the proxies need NATS only if the ActorSystem has it", checkHandoffController},
		{"k8s: cluster-wide resources have no namespace, and usable names", checkClusterScoped},
		{"k8s: the statestore Secret is generated where the operator reads it", checkStatestoreSecret},
		{"k8s: the statestore Secret names the database service", checkStatestoreHost},
		{"k8s: the database reads the statestore Secret", checkDatabaseCredentials},
	}
	for _, c := range checks {
		t.Run(c.name, func(t *testing.T) {
			if err := c.check(d); err != nil {
				t.Error(err)
			}
		})
	}
}

// field is a value read from the files, with where it was read.
type field struct {
	where, value string
}

func (f field) String() string { return fmt.Sprintf("%s = %q", f.where, f.value) }

// agree returns an error naming the first field whose value differs from
// want's.
func agree(want field, others ...field) error {
	var errs []error
	for _, f := range others {
		if f.value != want.value {
			errs = append(errs, fmt.Errorf("%s, but %s: they must agree", f, want))
		}
	}
	return errors.Join(errs...)
}

// buildStage returns the stage that declares the PACKAGE argument.
func (d *deployment) buildStage() (stage, error) {
	for _, s := range d.dockerfile.stages {
		if _, ok := s.arg("PACKAGE"); ok {
			return s, nil
		}
	}
	return stage{}, fmt.Errorf("%s: no stage declares ARG PACKAGE=<the main package to build>", dockerfilePath)
}

func checkDefaultPackage(d *deployment) error {
	s, err := d.buildStage()
	if err != nil {
		return err
	}
	pkg, _ := s.arg("PACKAGE")
	dir := filepath.Join(repoRoot, filepath.FromSlash(pkg))
	files, _ := filepath.Glob(filepath.Join(dir, "*.go"))
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		pf, err := parser.ParseFile(token.NewFileSet(), f, nil, parser.PackageClauseOnly)
		if err == nil && pf.Name.Name == "main" {
			return nil
		}
	}
	return fmt.Errorf("%s: ARG PACKAGE=%s: %s holds no main package", dockerfilePath, pkg, dir)
}

// goBuild returns the RUN instruction of the build stage that runs go
// build, and the path of the binary it writes (-o).
func (d *deployment) goBuild() (instruction, string, error) {
	s, err := d.buildStage()
	if err != nil {
		return instruction{}, "", err
	}
	for _, in := range s.all("RUN") {
		if !strings.Contains(in.args, "go build") {
			continue
		}
		m := regexp.MustCompile(`\s-o[ =](\S+)`).FindStringSubmatch(in.args)
		if m == nil {
			return in, "", fmt.Errorf("%s:%d: go build names no output file (-o)", dockerfilePath, in.line)
		}
		return in, m[1], nil
	}
	return instruction{}, "", fmt.Errorf("%s: the stage FROM %s runs no go build", dockerfilePath, s.from)
}

func checkStaticBuild(d *deployment) error {
	in, _, err := d.goBuild()
	if err != nil {
		return err
	}
	if !regexp.MustCompile(`(^|\s)CGO_ENABLED=0\s`).MatchString(in.args) {
		return fmt.Errorf("%s:%d: go build without CGO_ENABLED=0 may link the C library, which the final image lacks", dockerfilePath, in.line)
	}
	if !regexp.MustCompile(`\s"?\$\{?PACKAGE\}?"?\s*$`).MatchString(in.args) {
		return fmt.Errorf("%s:%d: go build does not build $PACKAGE, the package the build argument names", dockerfilePath, in.line)
	}
	return nil
}

func checkEntrypoint(d *deployment) error {
	_, out, err := d.goBuild()
	if err != nil {
		return err
	}
	build, _ := d.buildStage()
	final := d.dockerfile.final()
	var dest string
	for _, in := range final.all("COPY") {
		w := strings.Fields(in.args)
		if len(w) == 3 && w[0] == "--from="+build.name && w[1] == out {
			dest = w[2]
		}
	}
	if dest == "" {
		return fmt.Errorf("%s: the final stage does not COPY --from=%s %s, the binary go build writes", dockerfilePath, build.name, out)
	}
	eps := final.all("ENTRYPOINT")
	if len(eps) != 1 {
		return fmt.Errorf("%s: the final stage has %d ENTRYPOINTs, want 1", dockerfilePath, len(eps))
	}
	var argv []string
	if err := json.Unmarshal([]byte(eps[0].args), &argv); err != nil || len(argv) == 0 {
		return fmt.Errorf("%s:%d: ENTRYPOINT %s: want the exec form, [\"%s\"], so that the host gets SIGTERM itself, not a shell", dockerfilePath, eps[0].line, eps[0].args, dest)
	}
	if argv[0] != dest {
		return fmt.Errorf("%s:%d: ENTRYPOINT runs %s, but the binary was copied to %s", dockerfilePath, eps[0].line, argv[0], dest)
	}
	return nil
}

func checkFinalBase(d *deployment) error {
	from := d.dockerfile.final().from
	if from == "scratch" || strings.HasPrefix(from, "gcr.io/distroless/static") {
		return nil
	}
	return fmt.Errorf("%s: the final stage is FROM %s; want gcr.io/distroless/static… or scratch: the host is a static binary and needs nothing more", dockerfilePath, from)
}

func checkUser(d *deployment) error {
	users := d.dockerfile.final().all("USER")
	if len(users) == 0 {
		return fmt.Errorf("%s: the final stage sets no USER, so the host would run as root", dockerfilePath)
	}
	u := users[len(users)-1]
	uid, _, _ := strings.Cut(u.args, ":")
	n, err := strconv.Atoi(uid)
	if err != nil {
		return fmt.Errorf("%s:%d: USER %s: want a numeric uid, which Kubernetes can check against runAsNonRoot", dockerfilePath, u.line, u.args)
	}
	if n == 0 {
		return fmt.Errorf("%s:%d: USER %s is root", dockerfilePath, u.line, u.args)
	}
	return nil
}

func checkGoVersion(d *deployment) error {
	s, err := d.buildStage()
	if err != nil {
		return err
	}
	repo, tag, _ := strings.Cut(s.from, ":")
	if repo != "golang" && repo != "docker.io/library/golang" {
		return fmt.Errorf("%s: the build stage is FROM %s, not a golang image", dockerfilePath, s.from)
	}
	gomod, err := os.ReadFile(filepath.Join(repoRoot, "go.mod"))
	if err != nil {
		return err
	}
	m := regexp.MustCompile(`(?m)^go (\d+\.\d+)`).FindSubmatch(gomod)
	if m == nil {
		return errors.New("go.mod: no go directive")
	}
	// The image may be newer than go.mod's minimum, never older.
	want := string(m[1])
	have := regexp.MustCompile(`^(\d+)\.(\d+)`).FindStringSubmatch(tag)
	if have == nil {
		return fmt.Errorf("%s: the build stage is FROM %s: pin a Go version, like golang:%s", dockerfilePath, s.from, want)
	}
	wantMajor, wantMinor, _ := strings.Cut(want, ".")
	if minor(have[1], have[2]) < minor(wantMajor, wantMinor) {
		return fmt.Errorf("%s: the build stage is FROM %s, but go.mod needs go %s", dockerfilePath, s.from, want)
	}
	return nil
}

// minor orders Go versions by major then minor number.
func minor(major, minor string) int {
	a, _ := strconv.Atoi(major)
	b, _ := strconv.Atoi(minor)
	return a*1000 + b
}

// exposed returns the port the Dockerfile exposes.
func (d *deployment) exposed() (field, error) {
	ex := d.dockerfile.final().all("EXPOSE")
	if len(ex) != 1 || len(strings.Fields(ex[0].args)) != 1 {
		return field{}, fmt.Errorf("%s: the final stage must EXPOSE one port, the host's", dockerfilePath)
	}
	port, _, _ := strings.Cut(ex[0].args, "/")
	return field{fmt.Sprintf("%s:%d: EXPOSE", dockerfilePath, ex[0].line), port}, nil
}

// The compose services the checks look at: the one Dockerfile builds, the
// real proxy, and the database the proxy names.

func (d *deployment) composeHost() (string, composeService, error) {
	for name, s := range d.compose.Services {
		if s.Build != nil {
			return name, s, nil
		}
	}
	return "", composeService{}, fmt.Errorf("%s: no service has a build section: the host's must build deploy/Dockerfile", composePath)
}

func (d *deployment) composeProxy() (string, composeService, error) {
	for name, s := range d.compose.Services {
		if repo, _, _ := strings.Cut(s.Image, ":"); repo == proxyImageRepo {
			return name, s, nil
		}
	}
	return "", composeService{}, fmt.Errorf("%s: no service runs %s, the Spawn proxy", composePath, proxyImageRepo)
}

// svcField reads one of a compose service's variables.
func svcField(service string, s composeService, name, dflt string) field {
	v := s.env(name)
	where := fmt.Sprintf("%s: services.%s.environment.%s", composePath, service, name)
	if v == "" {
		v, where = dflt, where+" (unset: its default)"
	}
	return field{where, v}
}

func checkComposeBuild(d *deployment) error {
	name, s, err := d.composeHost()
	if err != nil {
		return err
	}
	got, err := filepath.Abs(filepath.Join(s.Build.Context, filepath.FromSlash(s.Build.Dockerfile)))
	if err != nil {
		return err
	}
	want, err := filepath.Abs(dockerfilePath)
	if err != nil {
		return err
	}
	if got != want {
		return fmt.Errorf("%s: services.%s.build: context %q and dockerfile %q name %s, not deploy/Dockerfile", composePath, name, s.Build.Context, s.Build.Dockerfile, got)
	}
	if root, _ := filepath.Abs(repoRoot); filepath.Join(filepath.Dir(want), s.Build.Context) != filepath.Clean(root) {
		return fmt.Errorf("%s: services.%s.build.context is %q: the Dockerfile wants the repository root", composePath, name, s.Build.Context)
	}
	return nil
}

func checkComposeHostToProxy(d *deployment) error {
	hname, h, err := d.composeHost()
	if err != nil {
		return err
	}
	pname, p, err := d.composeProxy()
	if err != nil {
		return err
	}
	if h.env(protocol.EnvOperatorProxyHost) != "" || h.env(protocol.EnvOperatorProxyPort) != "" {
		return fmt.Errorf("%s: services.%s.environment: name the proxy with %s and %s only, the variables these checks follow", composePath, hname, protocol.EnvProxyHost, protocol.EnvProxyPort)
	}
	return errors.Join(
		agree(field{composePath + ": services." + pname + " (the proxy's service name)", pname},
			svcField(hname, h, protocol.EnvProxyHost, "")),
		agree(svcField(pname, p, "PROXY_HTTP_PORT", strconv.Itoa(protocol.DefaultProxyPort)),
			svcField(hname, h, protocol.EnvProxyPort, strconv.Itoa(protocol.DefaultProxyPort))))
}

func checkComposeProxyToHost(d *deployment) error {
	hname, h, err := d.composeHost()
	if err != nil {
		return err
	}
	pname, p, err := d.composeProxy()
	if err != nil {
		return err
	}
	exposed, err := d.exposed()
	if err != nil {
		return err
	}
	listen := svcField(hname, h, protocol.EnvHostPort, strconv.Itoa(protocol.DefaultHostPort))
	errs := []error{
		agree(field{composePath + ": services." + hname + " (the host's service name)", hname},
			svcField(pname, p, protocol.EnvHostHost, "0.0.0.0")),
		agree(listen, svcField(pname, p, protocol.EnvHostPort, strconv.Itoa(protocol.DefaultHostPort))),
		agree(exposed, listen),
	}
	// The host must listen where other containers reach it.
	if host := h.env(protocol.EnvHostHost); host != "" && host != "0.0.0.0" && host != "::" {
		errs = append(errs, fmt.Errorf("%s: services.%s.environment.%s = %q: the host must listen on all interfaces (0.0.0.0) for the proxy's container to reach it", composePath, hname, protocol.EnvHostHost, host))
	}
	return errors.Join(errs...)
}

func checkComposeSystem(d *deployment) error {
	hname, h, err := d.composeHost()
	if err != nil {
		return err
	}
	pname, p, err := d.composeProxy()
	if err != nil {
		return err
	}
	proxy := svcField(pname, p, protocol.EnvSystem, protocol.DefaultSystem)
	errs := []error{agree(proxy, svcField(hname, h, protocol.EnvSystem, protocol.DefaultSystem))}
	for _, s := range d.systems {
		errs = append(errs, agree(field{s.file + ": metadata.name", s.Metadata.Name}, proxy))
	}
	return errors.Join(errs...)
}

func checkComposeDatabase(d *deployment) error {
	pname, p, err := d.composeProxy()
	if err != nil {
		return err
	}
	typ := svcField(pname, p, "PROXY_DATABASE_TYPE", "")
	if typ.value != "postgres" {
		return fmt.Errorf("%s: these checks know the variables of the postgres image only; teach them those of %q", typ, typ.value)
	}
	host := svcField(pname, p, "PROXY_DATABASE_HOST", "")
	db, ok := d.compose.Services[host.value]
	if !ok {
		return fmt.Errorf("%s names no service of %s", host, composePath)
	}
	if repo, _, _ := strings.Cut(db.Image, ":"); repo != "postgres" {
		return fmt.Errorf("%s: services.%s.image is %q, but PROXY_DATABASE_TYPE is postgres", composePath, host.value, db.Image)
	}
	return errors.Join(
		agree(field{"the postgres image's port", "5432"}, svcField(pname, p, "PROXY_DATABASE_PORT", "")),
		agree(svcField(host.value, db, "POSTGRES_DB", ""), svcField(pname, p, "PROXY_DATABASE_NAME", "")),
		agree(svcField(host.value, db, "POSTGRES_USER", ""), svcField(pname, p, "PROXY_DATABASE_USERNAME", "")),
		agree(svcField(host.value, db, "POSTGRES_PASSWORD", ""), svcField(pname, p, "PROXY_DATABASE_SECRET", "")))
}

func checkComposeKey(d *deployment) error {
	pname, p, err := d.composeProxy()
	if err != nil {
		return err
	}
	key := svcField(pname, p, protocol.EnvStateKey, "")
	if !regexp.MustCompile(`^\$\{` + protocol.EnvStateKey + `:\?[^}]+\}$`).MatchString(key.value) {
		return fmt.Errorf("%s: want ${%s:?<how to make one>}, so that each user makes a key and none is published here", key, protocol.EnvStateKey)
	}
	for name, s := range d.compose.Services {
		if v := s.env(protocol.EnvStateKey); v != "" && name != pname {
			return fmt.Errorf("%s: services.%s.environment.%s: only the proxy needs the key", composePath, name, protocol.EnvStateKey)
		}
	}
	return nil
}

func checkComposeProxyPorts(d *deployment) error {
	pname, p, err := d.composeProxy()
	if err != nil {
		return err
	}
	port := svcField(pname, p, "PROXY_HTTP_PORT", strconv.Itoa(protocol.DefaultProxyPort))
	var errs []error
	if p.Healthcheck == nil {
		errs = append(errs, fmt.Errorf("%s: services.%s.healthcheck is missing: the host waits for the proxy to be healthy", composePath, pname))
	} else {
		i := slices.IndexFunc(p.Healthcheck.Test, func(a string) bool { return strings.HasPrefix(a, "http://") })
		if i < 0 {
			errs = append(errs, fmt.Errorf("%s: services.%s.healthcheck.test calls no http:// URL", composePath, pname))
		} else if u, err := url.Parse(p.Healthcheck.Test[i]); err != nil || u.Port() != port.value || !strings.HasPrefix(u.Path, "/health/") {
			errs = append(errs, fmt.Errorf("%s: services.%s.healthcheck.test calls %s; want /health/… on %s", composePath, pname, p.Healthcheck.Test[i], port))
		}
	}
	published := false
	for _, m := range p.Ports {
		parts := strings.Split(m, ":")
		if c, _, _ := strings.Cut(parts[len(parts)-1], "/"); c == port.value {
			published = true
		}
	}
	if !published {
		errs = append(errs, fmt.Errorf("%s: services.%s.ports %q do not publish %s, where programs on the machine call actors", composePath, pname, p.Ports, port))
	}
	return errors.Join(errs...)
}

func checkComposeDependsOn(d *deployment) error {
	var errs []error
	for name, s := range d.compose.Services {
		for dep, c := range s.DependsOn {
			target, ok := d.compose.Services[dep]
			switch {
			case !ok:
				errs = append(errs, fmt.Errorf("%s: services.%s.depends_on names %q, which is no service", composePath, name, dep))
			case c.Condition == "service_healthy" && target.Healthcheck == nil:
				errs = append(errs, fmt.Errorf("%s: services.%s.depends_on.%s waits for service_healthy, but services.%s has no healthcheck", composePath, name, dep, dep))
			}
		}
	}
	return errors.Join(errs...)
}

// host returns the one ActorHost of the manifests.
func (d *deployment) host() (*actorHost, error) {
	if len(d.hosts) != 1 {
		return nil, fmt.Errorf("%s: %d ActorHosts, want 1, the example host's", k8sDir, len(d.hosts))
	}
	return &d.hosts[0], nil
}

// annotation reads one of the ActorHost's operator annotations.
func (h *actorHost) annotation(name string) field {
	key := annotationPrefix + name
	where := fmt.Sprintf("%s: metadata.annotations[%s]", h.file, key)
	v, ok := h.Metadata.Annotations[key]
	if !ok {
		v, where = operatorAnnotations[name], where+" (unset: the operator's default)"
	}
	return field{where, v}
}

// hostEnv reads one of the ActorHost's host variables.
func (h *actorHost) hostEnv(name, dflt string) field {
	v := h.env(name)
	where := fmt.Sprintf("%s: spec.host.env[%s]", h.file, name)
	if v == "" {
		v, where = dflt, where+" (unset: "+dflt+")"
	}
	return field{where, v}
}

func checkImages(d *deployment) error {
	h, err := d.host()
	if err != nil {
		return err
	}
	hname, hs, err := d.composeHost()
	if err != nil {
		return err
	}
	pname, ps, err := d.composeProxy()
	if err != nil {
		return err
	}
	return errors.Join(
		agree(field{fmt.Sprintf("%s: services.%s.image (what deploy/Dockerfile builds)", composePath, hname), hs.Image},
			field{h.file + ": spec.host.image", h.Spec.Host.Image}),
		agree(field{fmt.Sprintf("%s: services.%s.image", composePath, pname), ps.Image},
			h.annotation("sidecar-image-tag")))
}

func checkKustomizationResources(d *deployment) error {
	var errs []error
	if d.kustomization.APIVersion != "kustomize.config.k8s.io/v1beta1" || d.kustomization.Kind != "Kustomization" {
		errs = append(errs, fmt.Errorf("%s: apiVersion %q, kind %q; want kustomize.config.k8s.io/v1beta1, Kustomization", kustomizationPath, d.kustomization.APIVersion, d.kustomization.Kind))
	}
	listed := map[string]bool{}
	for _, r := range d.kustomization.Resources {
		p := k8sDir + "/" + r
		listed[p] = true
		if !slices.Contains(d.k8sFiles, p) {
			errs = append(errs, fmt.Errorf("%s: resources lists %s, which is not a manifest in %s", kustomizationPath, r, k8sDir))
		}
	}
	hostFiles := map[string]bool{}
	for _, h := range d.hosts {
		hostFiles[h.file] = true
	}
	for _, f := range d.k8sFiles {
		switch {
		case hostFiles[f] && listed[f]:
			errs = append(errs, fmt.Errorf("%s: resources lists %s, an ActorHost, which must be applied after the operator has made its system's namespace", kustomizationPath, f))
		case !hostFiles[f] && !listed[f]:
			errs = append(errs, fmt.Errorf("%s: resources leaves out %s", kustomizationPath, f))
		}
	}
	return errors.Join(errs...)
}

func checkHostSystem(d *deployment) error {
	h, err := d.host()
	if err != nil {
		return err
	}
	sys := h.annotation("actor-system")
	i := slices.IndexFunc(d.systems, func(s actorSystem) bool { return s.Metadata.Name == sys.value })
	if i < 0 {
		return fmt.Errorf("%s names no ActorSystem of %s", sys, k8sDir)
	}
	// The operator gives the system's name to the proxy only.
	return agree(sys, h.hostEnv(protocol.EnvSystem, protocol.DefaultSystem))
}

func checkAppPort(d *deployment) error {
	h, err := d.host()
	if err != nil {
		return err
	}
	exposed, err := d.exposed()
	if err != nil {
		return err
	}
	// The operator gives the host no USER_FUNCTION_PORT: it listens on its
	// default unless spec.host.env sets one.
	listen := h.hostEnv(protocol.EnvHostPort, strconv.Itoa(protocol.DefaultHostPort))
	errs := []error{agree(listen, h.annotation("app-port"), exposed)}
	var ports []string
	for _, p := range h.Spec.Host.Ports {
		ports = append(ports, strconv.Itoa(p.ContainerPort))
	}
	if !slices.Contains(ports, listen.value) {
		errs = append(errs, fmt.Errorf("%s: spec.host.ports[].containerPort are %q, without the port the host listens on (%s)", h.file, ports, listen))
	}
	return errors.Join(errs...)
}

func checkSidecarPort(d *deployment) error {
	h, err := d.host()
	if err != nil {
		return err
	}
	if operatorProxyPort != strconv.Itoa(protocol.DefaultProxyPort) {
		return fmt.Errorf("the SDK's default proxy port %d is not the %s the operator gives hosts", protocol.DefaultProxyPort, operatorProxyPort)
	}
	// PROXY_HTTP_PORT, when set, wins over the operator's SPAWN_PROXY_PORT.
	return agree(h.annotation("sidecar-http-port"), h.hostEnv(protocol.EnvProxyPort, operatorProxyPort))
}

func checkHostFields(d *deployment) error {
	h, err := d.host()
	if err != nil {
		return err
	}
	var errs []error
	if h.Spec.Host.SDK != "go" {
		errs = append(errs, fmt.Errorf("%s: spec.host.sdk = %q, want go (one of %q)", h.file, h.Spec.Host.SDK, hostSDKs))
	}
	if h.Spec.Host.Embedded != nil && *h.Spec.Host.Embedded {
		errs = append(errs, fmt.Errorf("%s: spec.host.embedded is true, which runs no proxy sidecar: only Elixir hosts embed the proxy", h.file))
	}
	for k, v := range h.Metadata.Annotations {
		name, ok := strings.CutPrefix(k, annotationPrefix)
		if _, known := operatorAnnotations[name]; ok && !known {
			errs = append(errs, fmt.Errorf("%s: metadata.annotations[%s]: the operator reads no such annotation; is it misspelt?", h.file, k))
		}
		if name == "app-port" || name == "sidecar-http-port" {
			if _, err := strconv.ParseUint(v, 10, 16); err != nil {
				errs = append(errs, fmt.Errorf("%s: metadata.annotations[%s] = %q is not a port", h.file, k, v))
			}
		}
	}
	return errors.Join(errs...)
}

// handoffControllers are the values of the annotation
// supervisors-state-handoff-controller the proxy knows; any other means
// the state store.
var handoffControllers = []string{"crdt", "nats", "persistent"}

func checkHandoffController(d *deployment) error {
	h, err := d.host()
	if err != nil {
		return err
	}
	ctl := h.annotation("supervisors-state-handoff-controller")
	if !slices.Contains(handoffControllers, ctl.value) {
		return fmt.Errorf("%s: want one of %q", ctl, handoffControllers)
	}
	if ctl.value != "nats" {
		return nil
	}
	sys := h.annotation("actor-system").value
	for _, s := range d.systems {
		var cluster struct {
			Features struct {
				NATS struct {
					Enabled bool `json:"enabled"`
				} `json:"nats"`
			} `json:"features"`
		}
		if s.Metadata.Name == sys && len(s.Spec.Cluster) > 0 && json.Unmarshal(s.Spec.Cluster, &cluster) == nil && cluster.Features.NATS.Enabled {
			return nil
		}
	}
	return fmt.Errorf("%s: the proxies would keep their registry in NATS, but the ActorSystem %s does not enable spec.cluster.features.nats; say crdt", ctl, sys)
}

// dnsLabel is what a namespace's name must be; an ActorSystem's name
// becomes one.
var dnsLabel = regexp.MustCompile(`^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$`)

func checkClusterScoped(d *deployment) error {
	var errs []error
	for _, s := range d.systems {
		if s.Metadata.Namespace != "" {
			errs = append(errs, fmt.Errorf("%s: metadata.namespace = %q: ActorSystems are cluster-wide", s.file, s.Metadata.Namespace))
		}
		if !dnsLabel.MatchString(s.Metadata.Name) {
			errs = append(errs, fmt.Errorf("%s: metadata.name = %q: the operator makes a namespace of that name, which must be a DNS label", s.file, s.Metadata.Name))
		}
	}
	for _, h := range d.hosts {
		if h.Metadata.Namespace != "" {
			errs = append(errs, fmt.Errorf("%s: metadata.namespace = %q: ActorHosts are cluster-wide", h.file, h.Metadata.Namespace))
		}
		if !dnsLabel.MatchString(h.Metadata.Name) {
			errs = append(errs, fmt.Errorf("%s: metadata.name = %q: the operator names a Deployment and a Service after it, which must be a DNS label", h.file, h.Metadata.Name))
		}
	}
	return errors.Join(errs...)
}

// statestoreSecret returns the generated Secret the ActorSystem's
// credentialsSecretRef names.
func (d *deployment) statestoreSecret() (*actorSystem, int, error) {
	if len(d.systems) != 1 {
		return nil, 0, fmt.Errorf("%s: %d ActorSystems, want 1", k8sDir, len(d.systems))
	}
	s := &d.systems[0]
	ref := s.Spec.Statestore.CredentialsSecretRef
	for i, g := range d.kustomization.SecretGenerator {
		if g.Name == ref {
			return s, i, nil
		}
	}
	return s, 0, fmt.Errorf("%s: spec.statestore.credentialsSecretRef = %q, but %s generates no Secret of that name", s.file, ref, kustomizationPath)
}

// literals returns a secretGenerator's literals as a map.
func (d *deployment) literals(i int) map[string]string {
	m := map[string]string{}
	for _, l := range d.kustomization.SecretGenerator[i].Literals {
		k, v, _ := strings.Cut(l, "=")
		m[k] = v
	}
	return m
}

func checkStatestoreSecret(d *deployment) error {
	s, i, err := d.statestoreSecret()
	if err != nil {
		return err
	}
	g := d.kustomization.SecretGenerator[i]
	where := fmt.Sprintf("%s: secretGenerator[%s]", kustomizationPath, g.Name)
	var errs []error
	if !slices.Contains(statestoreTypes, s.Spec.Statestore.Type) {
		errs = append(errs, fmt.Errorf("%s: spec.statestore.type = %q, want one of %q", s.file, s.Spec.Statestore.Type, statestoreTypes))
	}
	if g.Namespace != operatorNamespace {
		errs = append(errs, fmt.Errorf("%s.namespace = %q: the operator reads the Secret in %s only", where, g.Namespace, operatorNamespace))
	}
	if !d.kustomization.GeneratorOptions.DisableNameSuffixHash {
		errs = append(errs, fmt.Errorf("%s: generatorOptions.disableNameSuffixHash must be true: kustomize would add a suffix to the Secret's name that the ActorSystem does not know", kustomizationPath))
	}
	lits := d.literals(i)
	for _, k := range statestoreKeys {
		_, written := lits[k]
		switch secret := slices.Contains(secretKeys, k); {
		case secret && written:
			errs = append(errs, fmt.Errorf("%s.literals: %s is written in the repository; it belongs in the envs file, which is not", where, k))
		case !secret && !written:
			errs = append(errs, fmt.Errorf("%s.literals: no %s", where, k))
		}
	}
	if len(g.Envs) == 0 {
		errs = append(errs, fmt.Errorf("%s.envs: none, so nothing provides %q", where, secretKeys))
	}
	for _, e := range g.Envs {
		if !slices.Contains(d.gitignore, "/"+k8sDir+"/"+e) {
			errs = append(errs, fmt.Errorf("%s.envs: %s holds secrets, but %s does not list /%s/%s", where, e, gitignorePath, k8sDir, e))
		}
	}
	return errors.Join(errs...)
}

// clusterDomain is the default DNS suffix of Services.
const clusterDomain = "svc.cluster.local"

func checkStatestoreHost(d *deployment) error {
	s, i, err := d.statestoreSecret()
	if err != nil {
		return err
	}
	lits := d.literals(i)
	where := fmt.Sprintf("%s: secretGenerator[%s].literals", kustomizationPath, d.kustomization.SecretGenerator[i].Name)
	host := lits["host"]
	name, ns, ok := strings.Cut(strings.TrimSuffix(host, "."+clusterDomain), ".")
	if !strings.HasSuffix(host, "."+clusterDomain) || !ok {
		return nil // a database outside the cluster, or not this file's to check
	}
	j := slices.IndexFunc(d.services, func(s service) bool { return s.Metadata.Name == name && s.Metadata.Namespace == ns })
	if j < 0 {
		return fmt.Errorf("%s: host = %q names no Service of %s (%s in namespace %s)", where, host, k8sDir, name, ns)
	}
	svc := d.services[j]
	var ports []string
	for _, p := range svc.Spec.Ports {
		ports = append(ports, strconv.Itoa(p.Port))
	}
	var errs []error
	if !slices.Contains(ports, lits["port"]) {
		errs = append(errs, fmt.Errorf("%s: port = %q, but %s: spec.ports of Service %s are %q", where, lits["port"], svc.file, name, ports))
	}
	// The Service must select the database of the statestore's type.
	want := map[string]string{"postgres": "postgres", "mariadb": "mariadb"}[strings.ToLower(s.Spec.Statestore.Type)]
	found := false
	for _, st := range d.statefulSets {
		if st.Metadata.Namespace == ns && matches(svc.Spec.Selector, st.Spec.Template.Metadata.Labels) {
			found = true
			for _, c := range st.Spec.Template.Spec.Containers {
				if repo, _, _ := strings.Cut(c.Image, ":"); want != "" && repo != want {
					errs = append(errs, fmt.Errorf("%s: container %s runs %s, but %s: spec.statestore.type is %s", st.file, c.Name, c.Image, s.file, s.Spec.Statestore.Type))
				}
			}
		}
	}
	if !found {
		errs = append(errs, fmt.Errorf("%s: spec.selector of Service %s selects no StatefulSet of %s", svc.file, name, k8sDir))
	}
	return errors.Join(errs...)
}

// matches reports whether selector selects labels.
func matches(selector, labels map[string]string) bool {
	if len(selector) == 0 {
		return false
	}
	for k, v := range selector {
		if labels[k] != v {
			return false
		}
	}
	return true
}

func checkDatabaseCredentials(d *deployment) error {
	_, i, err := d.statestoreSecret()
	if err != nil {
		return err
	}
	g := d.kustomization.SecretGenerator[i]
	var errs []error
	for _, st := range d.statefulSets {
		for _, c := range st.Spec.Template.Spec.Containers {
			for _, e := range c.Env {
				if e.ValueFrom == nil || e.ValueFrom.SecretKeyRef == nil {
					continue
				}
				ref := e.ValueFrom.SecretKeyRef
				where := fmt.Sprintf("%s: container %s: env[%s].valueFrom.secretKeyRef", st.file, c.Name, e.Name)
				switch {
				case ref.Name != g.Name:
					errs = append(errs, fmt.Errorf("%s.name = %q; the statestore Secret is %s", where, ref.Name, g.Name))
				case !slices.Contains(statestoreKeys, ref.Key):
					errs = append(errs, fmt.Errorf("%s.key = %q; the statestore Secret's keys are %q", where, ref.Key, statestoreKeys))
				case st.Metadata.Namespace != g.Namespace:
					errs = append(errs, fmt.Errorf("%s: metadata.namespace = %q, but the Secret it reads is in %s", st.file, st.Metadata.Namespace, g.Namespace))
				}
			}
		}
	}
	return errors.Join(errs...)
}
