package deploy_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"sigs.k8s.io/yaml"
)

// Reading the deployment files into the shapes the checks look at. The
// custom resources, the compose file and the kustomization are decoded
// strictly: a field these types do not declare is an error, so a
// misspelt field fails here instead of being ignored. The types of the
// Spawn resources declare what the operator's CRD schema declares, no
// more, since the API server drops any other field without a word.

// deployment is everything under deploy/, read.
type deployment struct {
	dockerfile    dockerfile
	compose       composeFile
	kustomization kustomization
	gitignore     []string

	// k8sFiles are the manifests in k8s/ other than kustomization.yaml.
	k8sFiles     []string
	systems      []actorSystem
	hosts        []actorHost
	services     []service
	statefulSets []statefulSet
}

// Paths, relative to this folder, where the tests run.
const (
	repoRoot          = ".."
	dockerfilePath    = "Dockerfile"
	composePath       = "docker-compose.yaml"
	k8sDir            = "k8s"
	kustomizationPath = "k8s/kustomization.yaml"
	gitignorePath     = ".gitignore"
)

// load reads every deployment file; what cannot be read fails the test.
func load(t *testing.T) *deployment {
	t.Helper()
	d := &deployment{}
	var err error
	if d.dockerfile, err = parseDockerfile(read(t, dockerfilePath)); err != nil {
		t.Fatalf("%s: %v", dockerfilePath, err)
	}
	strict(t, composePath, read(t, composePath), &d.compose)
	strict(t, kustomizationPath, read(t, kustomizationPath), &d.kustomization)
	for l := range strings.Lines(string(read(t, gitignorePath))) {
		if l = strings.TrimSpace(l); l != "" && !strings.HasPrefix(l, "#") {
			d.gitignore = append(d.gitignore, l)
		}
	}

	files, err := filepath.Glob(filepath.Join(k8sDir, "*.y*ml"))
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range files {
		if filepath.ToSlash(f) == kustomizationPath {
			continue
		}
		f = filepath.ToSlash(f)
		d.k8sFiles = append(d.k8sFiles, f)
		for i, doc := range documents(read(t, f)) {
			where := fmt.Sprintf("%s (document %d)", f, i+1)
			var tm typeMeta
			if err := yaml.Unmarshal(doc, &tm); err != nil {
				t.Fatalf("%s: %v", where, err)
			}
			if err := stringValues(doc); err != nil {
				t.Fatalf("%s: %v", where, err)
			}
			if want, ok := knownKinds[tm.Kind]; !ok || tm.APIVersion != want {
				t.Fatalf("%s: apiVersion %q, kind %q: these tests know only %v; teach them the new kind, with the checks it needs", where, tm.APIVersion, tm.Kind, knownKinds)
			}
			switch tm.Kind {
			case "ActorSystem":
				var o actorSystem
				strict(t, where, doc, &o)
				o.file = f
				d.systems = append(d.systems, o)
			case "ActorHost":
				var o actorHost
				strict(t, where, doc, &o)
				o.file = f
				d.hosts = append(d.hosts, o)
			case "Service":
				var o service
				lenient(t, where, doc, &o)
				o.file = f
				d.services = append(d.services, o)
			case "StatefulSet":
				var o statefulSet
				lenient(t, where, doc, &o)
				o.file = f
				d.statefulSets = append(d.statefulSets, o)
			}
		}
	}
	return d
}

// knownKinds are the kinds the manifests may hold, with their apiVersion.
var knownKinds = map[string]string{
	"ActorSystem": "spawn-eigr.io/v1",
	"ActorHost":   "spawn-eigr.io/v1",
	"Service":     "v1",
	"StatefulSet": "apps/v1",
}

func read(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func strict(t *testing.T, where string, doc []byte, v any) {
	t.Helper()
	if err := yaml.UnmarshalStrict(doc, v); err != nil {
		t.Fatalf("%s: %v (decoded strictly: a field these tests do not declare is taken for a misspelt one)", where, err)
	}
}

func lenient(t *testing.T, where string, doc []byte, v any) {
	t.Helper()
	if err := yaml.Unmarshal(doc, v); err != nil {
		t.Fatalf("%s: %v", where, err)
	}
}

var (
	docSeparator = regexp.MustCompile(`(?m)^---[ \t]*$`)
	commentLine  = regexp.MustCompile(`(?m)^[ \t]*#.*$`)
)

// documents splits a multi-document YAML file, leaving out documents
// that hold nothing but comments.
func documents(b []byte) [][]byte {
	var docs [][]byte
	for _, d := range docSeparator.Split(string(b), -1) {
		if strings.TrimSpace(commentLine.ReplaceAllString(d, "")) != "" {
			docs = append(docs, []byte(d))
		}
	}
	return docs
}

// stringValues checks that annotations, labels and environment values
// are strings, as the API server wants them. The typed decoding cannot
// tell: it turns 8090 into "8090" when the field is a string, where
// kubectl sends a number, which the API server refuses.
func stringValues(doc []byte) error {
	var v any
	if err := yaml.Unmarshal(doc, &v); err != nil {
		return err
	}
	return walk(v, "", func(parent, key string, v any) error {
		if _, ok := v.(string); ok {
			return nil
		}
		if strings.HasSuffix(parent, "metadata.annotations") || strings.HasSuffix(parent, "metadata.labels") ||
			strings.HasSuffix(parent, "env[]") && key == "value" {
			return fmt.Errorf("%s[%s]: %v is not a string: quote it", parent, key, v)
		}
		return nil
	})
}

// walk calls f with every scalar in v, the dotted path of the map that
// holds it (list items are named path[]), and its key there.
func walk(v any, path string, f func(parent, key string, v any) error) error {
	switch v := v.(type) {
	case map[string]any:
		for k, e := range v {
			var err error
			switch e.(type) {
			case map[string]any, []any:
				p := k
				if path != "" {
					p = path + "." + k
				}
				err = walk(e, p, f)
			default:
				err = f(path, k, e)
			}
			if err != nil {
				return err
			}
		}
	case []any:
		for _, e := range v {
			if err := walk(e, path+"[]", f); err != nil {
				return err
			}
		}
	}
	return nil
}

type typeMeta struct {
	APIVersion string `json:"apiVersion"`
	Kind       string `json:"kind"`
}

type objectMeta struct {
	Name        string            `json:"name"`
	Namespace   string            `json:"namespace,omitempty"`
	Labels      map[string]string `json:"labels,omitempty"`
	Annotations map[string]string `json:"annotations,omitempty"`
}

// actorSystem is the Spawn operator's ActorSystem, spawn-eigr.io/v1.
type actorSystem struct {
	typeMeta `json:",inline"`
	Metadata objectMeta `json:"metadata"`
	Spec     struct {
		// Cluster is not read by the checks, but allowed.
		Cluster    json.RawMessage `json:"cluster,omitempty"`
		Statestore struct {
			Type                 string `json:"type"`
			CredentialsSecretRef string `json:"credentialsSecretRef"`
			Pool                 struct {
				Size int `json:"size"`
			} `json:"pool"`
		} `json:"statestore"`
	} `json:"spec"`

	file string
}

// actorHost is the Spawn operator's ActorHost, spawn-eigr.io/v1.
type actorHost struct {
	typeMeta `json:",inline"`
	Metadata objectMeta `json:"metadata"`
	Spec     struct {
		Replicas   *int            `json:"replicas,omitempty"`
		Autoscaler json.RawMessage `json:"autoscaler,omitempty"`
		Affinity   json.RawMessage `json:"affinity,omitempty"`
		Volumes    json.RawMessage `json:"volumes,omitempty"`
		Topology   json.RawMessage `json:"topology,omitempty"`
		Host       struct {
			Image          string          `json:"image"`
			SDK            string          `json:"sdk"`
			Embedded       *bool           `json:"embedded,omitempty"`
			PullSecretsRef string          `json:"pullSecretsRef,omitempty"`
			VolumeMounts   json.RawMessage `json:"volumeMounts,omitempty"`
			TaskActors     json.RawMessage `json:"taskActors,omitempty"`
			Ports          []struct {
				Name          string `json:"name"`
				ContainerPort int    `json:"containerPort"`
			} `json:"ports"`
			Env []envVar `json:"env"`
		} `json:"host"`
	} `json:"spec"`

	file string
}

// env returns the value of the host's variable name, "" when unset.
func (h *actorHost) env(name string) string {
	for _, e := range h.Spec.Host.Env {
		if e.Name == name {
			return e.Value
		}
	}
	return ""
}

type envVar struct {
	Name      string `json:"name"`
	Value     string `json:"value,omitempty"`
	ValueFrom *struct {
		FieldRef *struct {
			FieldPath string `json:"fieldPath"`
		} `json:"fieldRef,omitempty"`
		SecretKeyRef *struct {
			Name string `json:"name"`
			Key  string `json:"key"`
		} `json:"secretKeyRef,omitempty"`
	} `json:"valueFrom,omitempty"`
}

// service is the part of a Service the checks read.
type service struct {
	Metadata objectMeta `json:"metadata"`
	Spec     struct {
		Selector map[string]string `json:"selector"`
		Ports    []struct {
			Name string `json:"name"`
			Port int    `json:"port"`
		} `json:"ports"`
	} `json:"spec"`

	file string
}

// statefulSet is the part of a StatefulSet the checks read.
type statefulSet struct {
	Metadata objectMeta `json:"metadata"`
	Spec     struct {
		Template struct {
			Metadata objectMeta `json:"metadata"`
			Spec     struct {
				Containers []struct {
					Name  string   `json:"name"`
					Image string   `json:"image"`
					Env   []envVar `json:"env"`
				} `json:"containers"`
			} `json:"spec"`
		} `json:"template"`
	} `json:"spec"`

	file string
}

// kustomization is the part of kustomize's Kustomization these files use.
type kustomization struct {
	typeMeta        `json:",inline"`
	Resources       []string `json:"resources"`
	SecretGenerator []struct {
		Name      string   `json:"name"`
		Namespace string   `json:"namespace"`
		Literals  []string `json:"literals"`
		Envs      []string `json:"envs"`
	} `json:"secretGenerator"`
	GeneratorOptions struct {
		DisableNameSuffixHash bool `json:"disableNameSuffixHash"`
	} `json:"generatorOptions"`
}

// composeFile is the part of the Compose specification these files use.
type composeFile struct {
	Name     string                     `json:"name"`
	Services map[string]composeService  `json:"services"`
	Volumes  map[string]json.RawMessage `json:"volumes"`
}

type composeService struct {
	Image string `json:"image"`
	Build *struct {
		Context    string            `json:"context"`
		Dockerfile string            `json:"dockerfile"`
		Args       map[string]string `json:"args,omitempty"`
	} `json:"build,omitempty"`
	Environment map[string]scalar `json:"environment"`
	Ports       []string          `json:"ports,omitempty"`
	Healthcheck *struct {
		Test        []string `json:"test"`
		Interval    string   `json:"interval"`
		Timeout     string   `json:"timeout"`
		Retries     int      `json:"retries"`
		StartPeriod string   `json:"start_period,omitempty"`
	} `json:"healthcheck,omitempty"`
	DependsOn map[string]struct {
		Condition string `json:"condition"`
	} `json:"depends_on,omitempty"`
	Volumes         []string `json:"volumes,omitempty"`
	StopGracePeriod string   `json:"stop_grace_period,omitempty"`
	Restart         string   `json:"restart,omitempty"`
}

// scalar is a YAML scalar read as text: Compose takes environment values
// as strings, numbers or booleans alike.
type scalar string

// UnmarshalJSON implements json.Unmarshaler.
func (s *scalar) UnmarshalJSON(b []byte) error {
	if len(b) > 0 && b[0] == '"' {
		var v string
		err := json.Unmarshal(b, &v)
		*s = scalar(v)
		return err
	}
	if bytes.Equal(b, []byte("null")) || len(b) > 0 && (b[0] == '{' || b[0] == '[') {
		return fmt.Errorf("environment value %s is not a string, number or boolean", b)
	}
	*s = scalar(b)
	return nil
}

// env returns the service's variable name, "" when unset.
func (s composeService) env(name string) string { return string(s.Environment[name]) }

// dockerfile is a Dockerfile as a list of build stages.
type dockerfile struct {
	stages []stage
}

// stage is one FROM and the instructions after it.
type stage struct {
	from, name string
	instrs     []instruction
}

// instruction is one Dockerfile instruction, continuation lines joined.
type instruction struct {
	line int    // where it starts, counting from 1
	cmd  string // upper case: FROM, RUN, ...
	args string
}

// parseDockerfile splits a Dockerfile into stages and instructions. It
// knows what these checks need: comments, continuation lines, and FROM
// with --platform and AS.
func parseDockerfile(b []byte) (dockerfile, error) {
	var (
		df      dockerfile
		pending strings.Builder
		start   int
	)
	for i, l := range strings.Split(string(b), "\n") {
		trimmed := strings.TrimSpace(l)
		if trimmed == "" || strings.HasPrefix(trimmed, "#") {
			continue // comments and blank lines may sit inside a continued instruction too
		}
		if pending.Len() == 0 {
			start = i + 1
		}
		if cont, ok := strings.CutSuffix(trimmed, `\`); ok {
			pending.WriteString(cont + " ")
			continue
		}
		pending.WriteString(trimmed)
		cmd, args, _ := strings.Cut(pending.String(), " ")
		pending.Reset()
		in := instruction{line: start, cmd: strings.ToUpper(cmd), args: strings.TrimSpace(args)}
		if in.cmd == "FROM" {
			var words []string
			for _, w := range strings.Fields(in.args) {
				if !strings.HasPrefix(w, "--") {
					words = append(words, w)
				}
			}
			st := stage{}
			switch {
			case len(words) == 1:
				st.from = words[0]
			case len(words) == 3 && strings.EqualFold(words[1], "AS"):
				st.from, st.name = words[0], words[2]
			default:
				return df, fmt.Errorf("line %d: FROM %s: want FROM [--platform=...] image [AS name]", in.line, in.args)
			}
			df.stages = append(df.stages, st)
			continue
		}
		if len(df.stages) == 0 {
			if in.cmd == "ARG" {
				continue // global build arguments, before the first FROM
			}
			return df, fmt.Errorf("line %d: %s before the first FROM", in.line, in.cmd)
		}
		last := &df.stages[len(df.stages)-1]
		last.instrs = append(last.instrs, in)
	}
	if pending.Len() > 0 {
		return df, fmt.Errorf("line %d: the file ends inside a continued instruction", start)
	}
	if len(df.stages) == 0 {
		return df, fmt.Errorf("no FROM")
	}
	return df, nil
}

// final is the stage that makes the image.
func (d dockerfile) final() stage { return d.stages[len(d.stages)-1] }

// stage returns the stage named name.
func (d dockerfile) stage(name string) (stage, bool) {
	i := slices.IndexFunc(d.stages, func(s stage) bool { return s.name == name })
	if i < 0 {
		return stage{}, false
	}
	return d.stages[i], true
}

// all returns the stage's instructions cmd.
func (s stage) all(cmd string) []instruction {
	var out []instruction
	for _, in := range s.instrs {
		if in.cmd == cmd {
			out = append(out, in)
		}
	}
	return out
}

// arg returns the default of the stage's build argument name.
func (s stage) arg(name string) (string, bool) {
	for _, in := range s.all("ARG") {
		if k, v, _ := strings.Cut(in.args, "="); k == name {
			return strings.Trim(v, `"`), true
		}
	}
	return "", false
}
