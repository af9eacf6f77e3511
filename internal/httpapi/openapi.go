package httpapi

import (
	"embed"
	"encoding/json"
	"fmt"
	"path"
	"slices"
	"sync"
)

// The API contract is openapi.json (info, shared schemas, the session and
// customer paths) plus one fragment per module in openapi/*.json holding that
// module's "paths", "components" and "tags", so modules add endpoints without
// editing one shared file. They are merged once; a path or component defined
// twice is an error, caught by the contract tests.
var (
	//go:embed openapi.json
	openAPIBase []byte
	//go:embed openapi
	openAPIFragments embed.FS
)

// OpenAPIDocument returns the merged OpenAPI document the server serves.
var OpenAPIDocument = sync.OnceValues(mergeOpenAPI)

func mergeOpenAPI() ([]byte, error) {
	var doc map[string]any
	if err := json.Unmarshal(openAPIBase, &doc); err != nil {
		return nil, fmt.Errorf("openapi.json: %w", err)
	}
	files, err := openAPIFragments.ReadDir("openapi")
	if err != nil {
		return nil, err
	}
	for _, f := range files {
		if path.Ext(f.Name()) != ".json" {
			continue
		}
		raw, err := openAPIFragments.ReadFile("openapi/" + f.Name())
		if err != nil {
			return nil, err
		}
		var frag map[string]any
		if err := json.Unmarshal(raw, &frag); err != nil {
			return nil, fmt.Errorf("openapi/%s: %w", f.Name(), err)
		}
		if err := mergeFragment(doc, frag); err != nil {
			return nil, fmt.Errorf("openapi/%s: %w", f.Name(), err)
		}
	}
	return json.MarshalIndent(doc, "", "  ")
}

// mergeFragment adds a fragment's paths, components (section by section) and
// tags to doc.
func mergeFragment(doc, frag map[string]any) error {
	for key, val := range frag {
		switch key {
		case "paths":
			if err := mergeMap(doc, "paths", val); err != nil {
				return err
			}
		case "components":
			sections, ok := val.(map[string]any)
			if !ok {
				return fmt.Errorf("components is not an object")
			}
			comps, _ := doc["components"].(map[string]any)
			if comps == nil {
				comps = map[string]any{}
				doc["components"] = comps
			}
			for name, sec := range sections {
				if err := mergeMap(comps, name, sec); err != nil {
					return fmt.Errorf("components: %w", err)
				}
			}
		case "tags":
			tags, ok := val.([]any)
			if !ok {
				return fmt.Errorf("tags is not an array")
			}
			existing, _ := doc["tags"].([]any)
			doc["tags"] = slices.Concat(existing, tags)
		default:
			return fmt.Errorf("unexpected top-level key %q (want paths, components, tags)", key)
		}
	}
	return nil
}

// mergeMap copies the members of val into parent[key], refusing duplicates.
func mergeMap(parent map[string]any, key string, val any) error {
	add, ok := val.(map[string]any)
	if !ok {
		return fmt.Errorf("%s is not an object", key)
	}
	into, _ := parent[key].(map[string]any)
	if into == nil {
		into = map[string]any{}
		parent[key] = into
	}
	for k, v := range add {
		if _, dup := into[k]; dup {
			return fmt.Errorf("%s %q is defined twice", key, k)
		}
		into[k] = v
	}
	return nil
}
