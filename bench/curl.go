package main

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"time"
)

// curlRecipe answers one question the way SAP's "Calling the Connectivity Service REST API" page
// shows with curl: a token POST with the binding's client credentials, then a GET of the Cloud
// Connector info with the token, reading the whole body. Like separate curl runs it shares nothing
// between questions (a fresh client, new connections, a new token) and does not parse the answer.
type curlRecipe struct {
	tokenURL, infoURL string
	form              url.Values
}

// newCurlRecipe takes what the recipe needs from the simulator's secret binding credentials.
func newCurlRecipe(creds map[string]any) curlRecipe {
	svc := creds["connectivity_service"].(map[string]any)
	return curlRecipe{tokenURL: creds["token_service_url"].(string) + "/oauth/token", infoURL: svc["url"].(string) + svc["scc_info_path"].(string),
		form: url.Values{"grant_type": {"client_credentials"}, "client_id": {creds["clientid"].(string)}, "client_secret": {creds["clientsecret"].(string)}}}
}

// ask runs the recipe once and returns how long it took and the size of the answer.
func (r curlRecipe) ask() (time.Duration, int, error) {
	start := time.Now()
	client := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}, Timeout: 60 * time.Second}
	defer client.CloseIdleConnections()
	resp, err := client.PostForm(r.tokenURL, r.form)
	if err != nil {
		return 0, 0, fmt.Errorf("token request: %w", err)
	}
	var tok struct {
		AccessToken string `json:"access_token"`
	}
	err = json.NewDecoder(resp.Body).Decode(&tok)
	resp.Body.Close()
	if err != nil || resp.StatusCode != http.StatusOK || tok.AccessToken == "" {
		return 0, 0, fmt.Errorf("token request: HTTP %d, no access token (%v)", resp.StatusCode, err)
	}
	req, err := http.NewRequest(http.MethodGet, r.infoURL, nil)
	if err != nil {
		return 0, 0, err
	}
	req.Header.Set("Accept", "application/json")
	req.Header.Set("Authorization", "Bearer "+tok.AccessToken)
	if resp, err = client.Do(req); err != nil {
		return 0, 0, fmt.Errorf("info request: %w", err)
	}
	defer resp.Body.Close()
	n, err := io.Copy(io.Discard, resp.Body)
	if err != nil || resp.StatusCode != http.StatusOK {
		return 0, 0, fmt.Errorf("info request: HTTP %d (%v)", resp.StatusCode, err)
	}
	return time.Since(start), int(n), nil
}
