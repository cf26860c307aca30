package main

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// curlRecipe answers one question the way SAP's "Calling the Connectivity Service REST API"
// page shows with curl: a POST to the token endpoint with the binding's client credentials,
// then a GET of the Cloud Connector info with the token, reading the whole body. Like separate
// curl invocations it shares nothing between questions: a fresh client, new connections, a new
// token. It stops at the raw JSON; working the answer out of it is left to whoever reads it.
type curlRecipe struct {
	tokenURL, infoURL      string
	clientID, clientSecret string
}

// newCurlRecipe takes what the recipe needs from the simulator's secret binding credentials.
func newCurlRecipe(creds map[string]any) curlRecipe {
	svc := creds["connectivity_service"].(map[string]any)
	return curlRecipe{
		tokenURL: creds["token_service_url"].(string) + "/oauth/token",
		infoURL:  svc["url"].(string) + svc["scc_info_path"].(string),
		clientID: creds["clientid"].(string), clientSecret: creds["clientsecret"].(string),
	}
}

// ask runs the recipe once and returns how long it took and the size of the answer.
func (r curlRecipe) ask() (time.Duration, int, error) {
	start := time.Now()
	client := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}, Timeout: 60 * time.Second}
	defer client.CloseIdleConnections()

	form := url.Values{"grant_type": {"client_credentials"}, "client_id": {r.clientID}, "client_secret": {r.clientSecret}}
	req, err := http.NewRequest(http.MethodPost, r.tokenURL, strings.NewReader(form.Encode()))
	if err != nil {
		return 0, 0, err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Accept", "application/json")
	resp, err := client.Do(req)
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

	req, err = http.NewRequest(http.MethodGet, r.infoURL, nil)
	if err != nil {
		return 0, 0, err
	}
	req.Header.Set("Accept", "application/json")
	req.Header.Set("Authorization", "Bearer "+tok.AccessToken)
	resp, err = client.Do(req)
	if err != nil {
		return 0, 0, fmt.Errorf("info request: %w", err)
	}
	defer resp.Body.Close()
	n, err := io.Copy(io.Discard, resp.Body)
	if err != nil || resp.StatusCode != http.StatusOK {
		return 0, 0, fmt.Errorf("info request: HTTP %d (%v)", resp.StatusCode, err)
	}
	return time.Since(start), int(n), nil
}
