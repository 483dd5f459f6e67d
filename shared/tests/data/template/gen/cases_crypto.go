package main

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"math/rand/v2"
	"strings"
)

// pemOf is the PEM text of a DER block.
func pemOf(kind string, der []byte) string {
	return string(pem.EncodeToMemory(&pem.Block{Type: kind, Bytes: der}))
}

// moreKeys: the RSA and ECDSA sample keys as PKCS#8, and P-384 and P-521 keys of fixed
// scalars, all deterministic.
func moreKeys(samples map[string]string) {
	must := func(err error) {
		if err != nil {
			panic(err)
		}
	}
	block, _ := pem.Decode([]byte(samples["go_ca_key"]))
	rsaKey, err := x509.ParsePKCS1PrivateKey(block.Bytes)
	must(err)
	der, err := x509.MarshalPKCS8PrivateKey(rsaKey)
	must(err)
	samples["rsa_pkcs8"] = pemOf("PRIVATE KEY", der)
	block, _ = pem.Decode([]byte(samples["go_ecdsa_key"]))
	ecKey, err := x509.ParseECPrivateKey(block.Bytes)
	must(err)
	der, err = x509.MarshalPKCS8PrivateKey(ecKey)
	must(err)
	samples["ec_pkcs8"] = pemOf("PRIVATE KEY", der)
	for name, curve := range map[string]elliptic.Curve{"p384_key": elliptic.P384(), "p521_key": elliptic.P521()} {
		scalar := make([]byte, (curve.Params().BitSize+7)/8)
		for i := range scalar {
			scalar[i] = byte(i + 1)
		}
		key, err := ecdsa.ParseRawPrivateKey(curve, scalar)
		must(err)
		der, err := x509.MarshalECPrivateKey(key)
		must(err)
		samples[name] = pemOf("EC PRIVATE KEY", der)
		der, err = x509.MarshalPKCS8PrivateKey(key)
		must(err)
		samples[name+"_pkcs8"] = pemOf("PRIVATE KEY", der)
	}
}

// The crypto cases: sprig's derivePassword, bcrypt, htpasswd, genPrivateKey,
// buildCustomCert, encryptAES and decryptAES.
//
// The "crypto" item set holds outputs that Go's sprig produced once (they are random, so
// they are fixed here rather than made on each run; made with `{{ bcrypt "hunter2'\"=" }}`,
// `{{ htpasswd "admin" "s3cr3t" }}`, `{{ encryptAES "secretkey" "hello world, a text of three
// AES blocks!" }}`, `{{ encryptAES "a password longer than thirty-two bytes" "exactly 16
// bytes" }}`, `{{ encryptAES "" "x" }}`, genPrivateKey of each type, genCA "example-ca" 3650
// and genSelfSignedCertWithKey with the ECDSA and Ed25519 keys). The cases decrypt, parse
// and rebuild them here; shared/tests/template_go.rs also verifies them with the Rust crates.
//
// Group "crypto" is rendered without an environment; group "crypto-env" with a seeded one:
// its templates only show what Go's output makes deterministic (a round trip, a length, a
// prefix).
func init() {
	samples := map[string]string{
		"go_bcrypt":      "$2a$10$DQYypBUKD5VwCEdKFKPqguGOVN5VvFK0wE8KizfY5jLWTSyO5wkFW",
		"go_htpasswd":    "admin:$2a$10$1yFHJj74JH6bZ05Md3lsB.aKxQY97JEbC2fu6bhybqs/PlNRVaI1e",
		"go_aes":         "NEx5+5JklTS0sTsP+VvOEy8aLusEHvhiACTIFlG+E69OAEVzcY7+OGvNTvAlEJnQWqhgt0e4KAfzv/JHK8M+Vg==",
		"go_aes_16":      "jVcPDRdUslITKt6xlELmbtVUS9qLc81TW9E+ynBXTRoTsWQeOpMgzRwCT6HrhzS2",
		"go_aes_nopw":    "A0/V+Izs6Z4LtJ82nTinNsrcezumAQlvQMH59mp3hE4=",
		"go_rsa_key":     "-----BEGIN RSA PRIVATE KEY-----\nMIIJKQIBAAKCAgEAwtoBPnTN7eZ3XrT8UDClpV9cZKe++E63LknAf+bnUdorRUfw\nopomvbQCZgZIoOzCWGyBAFWOMz0nPRxsp20T4b21jAcc2UNXs32zuW9WuQndD5ZI\nF1A9LGpVAqKYnfcQGwlN0pdLmUPgZcXm+GLOtpqYRWvqHrsyhJRFLmnJkXF9KPhO\nYtWH9KXziYlDVcv7gFeCP60HTpYSa/PnIGNrgQCD0raMLhaQlTJK+akrRfyr/cFN\n4gsVdOB9+ma3dGGFWAdjkEB/at+Mqg0q/yKfTcfy/nrHt4T1/mGHrnwwjxtyeOQO\nCydEOoaZs1z15vKsdKnVzl+MS3txQQP6Vb8dK3EFCDkOUew+68rtyFdzy3HC3/R5\nYwDuYMZp71izY8BS6njxbbdgiaG09vh9rUSSpaWjuOsdetExWYWHMK68zpdoOHAN\nEiCQlp2EUwANlzxx5cHeYItXG98bAsuf2OepuQSEImXQMAExfEQ3axJfM02uNroM\nqPegiaww+GtKnRNFPNY3WpsWQVTDUYtd2YrEvpA/Kz1yhjGNb7eMft3ES1nTkv9k\nAZFVTUN0e5DGLwjIa3E+0zSgqOse3IG6PC/CKybnpupPL5UULrS9VsKK8pFHflNq\nZyf8hb58/CbhAZh4eztyPgWEHWcK5vblZyMzgXZLgmf5WaTZrNqbYcFQ0s8CAwEA\nAQKCAgAWcJvfEP2cTcPmjMpYA9o3yt0tnGHyX8JZ2tWIBVQTiaAdGPVeDIm0pDP4\ngvW/TrTtEQXkP3YicYMA1zKuL3IwN7RePX11iftiKPJXQzrGEZw7TM/dm3iIEnDa\n3lXcL1VT/8TOIW1r57TCk8GPTnXG8tPhftWWF3HwcdDr0PQNQ3gqDTqdyEChjLEY\n4E14Zob+11UhNzCVvNO/SfYOtVRupVwJGsvXDPM2s3WN/g0FQN2f2jC5fRRKAwaP\nHWA4T3jXU/aD6OGjsb4V4XFXs6mMACB8bTBt8qqP0rSZBCVlfcA3qu/xGeMSKGkw\nDl8la0IwJ1T/sOJL2RoIZkhgsqNNp1fomKgSga16iWLMLwELzsLRoNF/PDlowUXF\n3p2+4wpVjqv+yVFmwBG27/k6QOm3Gjjx0eNjy6aZ7R46Qls932c+w49G45A0au4h\nLaPAFQGDZp5y8BOgq0KF8K2wUD1W0dQRwnJLnzW5OIPNM2L48ZGzxRaN4gjWoihC\nqAPbCSVhWpngCpL4/ssnrbcKm2LXwGlgWzBDaj0RQAe08bqlcp5Nvw3b2FVcRUG7\ntAO6ejzHQZvIrz52A+Dj4f2dBgU9oewsFF1qIsWLuNQR62ULlROBBsNDqGn+eOhh\nKZDjgoYGpEMfLweE2DPFR/6xjHDFFzfGf1uh0Vzub7uoaLt/fQKCAQEAzeHYbow2\n5OLDs02Wh4yXEHxtY0ijxkfcX/1V3ql13FvMFAA7pldRB2OylldxmMFvgmUpgUbx\niXDz/M+Y1akbZ/dbm5+hWavn+1IWdwnm9lEO7GA/TfrukCFQcGSkFqd3Do+VIjnn\nS73W3/g7GlwaHyY96be4oyy2WvCbEimD5ddV2iutdzTlGG6WhRAWPQn5gtZxHTIg\noAC98b3NUh2VhCxWTK+PCQfPjHRQyI85H1/oG9Lz17E8Z1IuPw0Jogww1p7Wxv5y\nek3FsS05Jp8FbB9exp61WyIE7z41QH7WLzFvJfGd3TzKtjfv6Lc+luvfnNS3oFP8\nhvOoXpHvHnJjYwKCAQEA8kjA5GqPg282J/aQ0xnEPCWm7sRxf1BHsl3ocVoLcNaf\nGRCN/feqfDdJCnKKw64SRV1kBTYuI80qEUSUYqrZnC38kTMaOOg+hz8SKW84Ppyy\nIS/cZrRbVvk/vSZQEojCcDw8USK4qBwsLPnRE0suVBuf66Rk1kSfRQKsVcVdLxxy\nbJiwDxIh/RFejNnej0MIXzuw7o6O905EjT/ubnG9k3Pn8MWucWaWVfFUQYsliNVk\nRKW16eVKWO4DhMirxhdnTiMhJqxroEFUxNIc2Nt+XPd7CT/z88UWZL8A5wa0ql2u\npUqCrVEuPN6minEPqghSf10xewld1ElwgmkPLINspQKCAQEAhpsCRkSmHz+jc7dm\nk3j3y2+OlTsI2Lpi+t9HJSzmQgxCgVElrrun3ozwVhsVyimuHjLF0B/yC0ouOzv/\nULIfmPnAix7y/w3FvisNRQbUWnbkqubCfNly4Ajn7pPeNHGJBZwahSYWcw7LTeOd\nwL421ebK0+OqdATntM1alaVO9xayqtGjuCx9HFwxTQ4XfBDpcQGDMvNzISlbBpJx\nix6Mgr36LmkZu22/5LSnnHkHf9vUhVyG0J6wP10bn12Gzsvpomh3Q+NYNV5jwlMu\n6nFNukNIU9Ov/sVfNIwXhPNoVbKcWNJ/xAXbAwfPcvdblJDiwkbRR6GhmRn1Gt+O\n1vkywQKCAQEAjJFHUH6+quvwCLmWBtQxNRBHTMoua0YhgsvXG0S51IrAnaMsLoft\nosnUl7oi5irtMM9hQ2DO3jifSot2Z9RmEqXfnkJ+2TttY7xlBiMgB7uT4YtKHVBQ\nmiJcJ5q95DLyVHmuKQizB93oh2OdOMtqoqOwYd/sHSCNI1XMtKqgSMABZx4jL2s+\nyvuz1pZk+MtUZSRVn+KX8cW4IhdQd0WITq91hwy6C9MQL+anEqvvZ/ceiHF4HK7K\nNtRIuFZQysozRnM9PZnVi5G748FfuTWHl9qByLkRCYJ0XpkupdsPILTfqciUDohG\nAkzPZQz5oJXZf0mLdq3VgV/mZdMcWaAafQKCAQBqidXcCtKFXR6md5Ul/2slYzlr\nBZ810oZF3QY5e4+9iFynWSAHzpTNrAy23rOqihy+9pRGvZVkksxaflzhVekNH92F\nQ7O0n7ZHh8zVGrIqYmCaCAypQaKqldu+BiXY7YauoLXqYtfkhxLJoNNYZAtymE4z\nCYuHk6Y3m2UsArPPU74OOghpPoPFoa8B2i6h6IV9HmQwgItWhOZ7cOSzVrc5PiqP\n/7YKD/8T65VZhPMgVBm3iMas1CxATFa6sGLsTYF6jDtxYH/dweZ4siDsitI5Xyv3\nTsobcyPlg3ZuEvLdv6Gmt5EwHdEz789MAXIf59DSzdlDcAvon7Nj9Zicjoen\n-----END RSA PRIVATE KEY-----\n",
		"go_ecdsa_key":   "-----BEGIN EC PRIVATE KEY-----\nMHcCAQEEIAZlL6p7yumJXfOzZ0uFFRc3E/Dhb8gduDjzDN8I00n7oAoGCCqGSM49\nAwEHoUQDQgAEGYra1uFHQFOjRBBf/Xc/hrzI9PRGBt8QS+s+YoPk0tiUYpb/RN2q\nC8/WsNE3mOqo/T3HIbQvWP4NwftTuahraQ==\n-----END EC PRIVATE KEY-----\n",
		"go_ed25519_key": "-----BEGIN PRIVATE KEY-----\nMC4CAQAwBQYDK2VwBCIEIHb+1+Fai/JULprAXRgSQIeS7Psb8KfYIcV794ZCGYat\n-----END PRIVATE KEY-----\n",
		"go_ec_cert":     "-----BEGIN CERTIFICATE-----\nMIIBhTCCASugAwIBAgIRALxI6EGvebozPuWUQCq5P+EwCgYIKoZIzj0EAwIwFTET\nMBEGA1UEAxMKZWMuZXhhbXBsZTAeFw0yNjEyMDExNDM4NDFaFw0zNjExMjgxNDM4\nNDFaMBUxEzARBgNVBAMTCmVjLmV4YW1wbGUwWTATBgcqhkjOPQIBBggqhkjOPQMB\nBwNCAAQZitrW4UdAU6NEEF/9dz+GvMj09EYG3xBL6z5ig+TS2JRilv9E3aoLz9aw\n0TeY6qj9PcchtC9Y/g3B+1O5qGtpo1wwWjAOBgNVHQ8BAf8EBAMCBaAwHQYDVR0l\nBBYwFAYIKwYBBQUHAwEGCCsGAQUFBwMCMAwGA1UdEwEB/wQCMAAwGwYDVR0RBBQw\nEoIKZWMuZXhhbXBsZYcECgAAATAKBggqhkjOPQQDAgNIADBFAiAfJoWW7dNjZU2h\nZmtDs8VMahcTUc+weAUqtyek8RTq4gIhAJ5xUU5U8MYSGIyfHQ3Be5ZObf69WArS\nrB5p+nOoKzc1\n-----END CERTIFICATE-----\n",
		"go_ed_cert":     "-----BEGIN CERTIFICATE-----\nMIIBJzCB2qADAgECAhEA4vFJwSOd4165ZVFm+8kHwDAFBgMrZXAwFTETMBEGA1UE\nAxMKZWQuZXhhbXBsZTAeFw0yNjEyMDExNDM4NDFaFw0zNjExMjgxNDM4NDFaMBUx\nEzARBgNVBAMTCmVkLmV4YW1wbGUwKjAFBgMrZXADIQDk6mWBNLYj4tFE2VyPyKsU\nw9H+ec6b6q6Acp/OSTbXdqM/MD0wDgYDVR0PAQH/BAQDAgWgMB0GA1UdJQQWMBQG\nCCsGAQUFBwMBBggrBgEFBQcDAjAMBgNVHRMBAf8EAjAAMAUGAytlcANBAFZPVNXZ\n8jnpEqlr5sreslk3GlyC1QugHBa4jKnbbJzUFKg+fRw31AX2qVF88BBDEs7YI70v\nTrP7nRR6VqfVRwk=\n-----END CERTIFICATE-----\n",
		"go_ca_cert":     "-----BEGIN CERTIFICATE-----\nMIIDFTCCAf2gAwIBAgIQWBdeQgeqR6Ja376+ba+BjzANBgkqhkiG9w0BAQsFADAV\nMRMwEQYDVQQDEwpleGFtcGxlLWNhMB4XDTI2MTIwMTE0Mzg1OVoXDTM2MTEyODE0\nMzg1OVowFTETMBEGA1UEAxMKZXhhbXBsZS1jYTCCASIwDQYJKoZIhvcNAQEBBQAD\nggEPADCCAQoCggEBAJUCJtkO4LafosgN+T1eRPyx2lUBdQlnwAugpuBgMk7MzzNo\nxds34Ct8DN0M+cQ5GB8EqClP8wr+sKboBsRkuwN27d/KXcNrGP2FngaN4TBH54BJ\nEuL/B84gNlRn6JwwkEFVCqnA5p8Na1pEYQVYNFt/hClkhoicTZRHfIVotGYCoh0t\nnltIUDQBTkqkxxw/5T+7MWESHJIWg2XOpZhemGTV3Mr+GaNo+F/ardlk41CUvukK\n3x9Qjgjg40zoB+GREa43JGW5kxYBRGe71dZaDl85E+BobR0Y91YW133UaUnEJzcG\nu8QpmadFqH5dD9hzAgLuZSm6s6HlIQA3KxhXKcMCAwEAAaNhMF8wDgYDVR0PAQH/\nBAQDAgKkMB0GA1UdJQQWMBQGCCsGAQUFBwMBBggrBgEFBQcDAjAPBgNVHRMBAf8E\nBTADAQH/MB0GA1UdDgQWBBQ0vD5UvcIRIPyvJGUQ6TiISO25wzANBgkqhkiG9w0B\nAQsFAAOCAQEAgR7Ij4OvXfAHLf0HpXlEnelyIael2S3/Hh+4LQbvq9WORGdMFcPq\nMykEPf4kRmYkPY38iFayv4cAqkCkKxht0apyTqeshugYGfrul8Avl9zlb8sIhqfz\ndOP1WlWsjp6kQrmpvxl/47H7rgnxoMc5fsJxA5Ps+vqFUdF/7bu9oFbKnvOj7/x0\nyI6oFXOxgZT/ypDO/KcjxHiE8Tz72+heMdvzXAC8Fx5RhfpHFoXOzWoh4DIuzbDj\nkuUO8mX7o0C1ph7WaBFHyVZDGnU/le42Abh0BecgLYrb7UihoJwJN7VFy3su6fGt\nu9yP8RnrACd2lUbFmQrdgYElbo+p9yoDEA==\n-----END CERTIFICATE-----\n",
		"go_ca_key":      "-----BEGIN RSA PRIVATE KEY-----\nMIIEogIBAAKCAQEAlQIm2Q7gtp+iyA35PV5E/LHaVQF1CWfAC6Cm4GAyTszPM2jF\n2zfgK3wM3Qz5xDkYHwSoKU/zCv6wpugGxGS7A3bt38pdw2sY/YWeBo3hMEfngEkS\n4v8HziA2VGfonDCQQVUKqcDmnw1rWkRhBVg0W3+EKWSGiJxNlEd8hWi0ZgKiHS2e\nW0hQNAFOSqTHHD/lP7sxYRIckhaDZc6lmF6YZNXcyv4Zo2j4X9qt2WTjUJS+6Qrf\nH1COCODjTOgH4ZERrjckZbmTFgFEZ7vV1loOXzkT4GhtHRj3VhbXfdRpScQnNwa7\nxCmZp0Wofl0P2HMCAu5lKbqzoeUhADcrGFcpwwIDAQABAoIBABETho0wecsj/z0q\n8Mm6IHDPFwTP3nA9/hG3Dvi+vXUvXn13P9lwDVYeaMD6aDM3Ec8YMwdM/L7hUjBG\nfeQK4S2z9u3DHLy07M+8/M+mecyVKPAYL7xo2qWiJmfE4rDnldiO3OJ4U1Wd7ZQS\nKwY4RgPIWMZ/mTVVqERabuhBCA96iAJwD/macBJXO412hf3vT9GUKuRtjKPY195D\nWJKG3foFSR0ST7Slk5wGvLJN3+2BwnXz7Lgz6rKxf+uvRL1yemvFxZ0IfMddZqvN\ngr9DXO7qybMh3iCEi8KN8O5MZz0L5V5+G9ZLIQDs+xqT0x/dgecC48SgnHetb9Xi\nSv4hrOUCgYEAxDeMXZ3q1br/V6ZUcTPMmIOd4CUSYB2qDZulxcb+sTXcZ3RXNP8O\no3NGqdl558j3sl3+ZZ9lIF4ERHIG69b8POLb47gv5v8O9pbB8tsWTruYX4XDk0Eb\n5Bb/WJkym4wOL+TKbdW9izd73KFrNVH8ifPX6bkxPcvSeV549H4MT68CgYEAwmhy\nseX2znv2dpNWKm7oZGk4AeE7IMWzjiygLfamOLhY+ozITfwqMbFx42mUtDWqTzUW\ntiI2sVuSaYnvxNfNrGlR1PT6UIYPOXF2R8fGSjAJMKIIsiuoZaUexgEq1/fsqMqx\n43ffnRDpV3EQ8ymkpVdOJsmSm+rEHwF31KkHWC0CgYAg0fHGju2Cxn6DWKzzKmjk\ncc9seIb0UMHq+MfnpvtfBNVS8KDNmoQGTvfY3SmI3ZKg4Rv2P40YtuEb2b7Sn+kc\n/g0tr9dDWhJUqK7UQlUe4j4AbE1kShWyNy6K0UUnw2t0E17QtFm5+ZPcOZvHFWma\nYZER5QoZfgg8iNLOgm7ovQKBgCPUumb9eoq+IEPkjfoOLPjsx6zZBVvZ9Gkc4nz2\nO9aya3vqXLS66E/2Y4ZFnGnGhlhI8aGqFqiDty2Khc2i9L51PubgLA6RVtcAiYtb\nT7m2tsrm4nFsSIJLd6uI5Yuen1jQ2w6Qtn8tccRzC2u13im3OKk/d60TDQil7Z8d\ndEQVAoGAa+mPOe0gMGQFg2XVsJw/RQ18Fi7uUWll/xzY9DUETr5FgGWsbDBq7tin\nWS5+MgfnbR70V4JXA4GWscJuNs3BAgKfHuAo1ynDz73G+BYeRG9hlRRDPiTLBvp7\n43SRIGGcKDZp08Kn9nLAdxPxD2Okw1nCFBfgkcHG1RMWR7amEZs=\n-----END RSA PRIVATE KEY-----\n",
	}
	for _, k := range []string{"go_ca_cert", "go_ca_key", "go_ec_cert", "go_ecdsa_key", "go_ed_cert", "go_ed25519_key", "go_rsa_key"} {
		samples[strings.TrimPrefix(k, "go_")+"_b64"] = base64.StdEncoding.EncodeToString([]byte(samples[k]))
	}
	moreKeys(samples)
	samples["password"] = "hunter2'\"="
	samples["bin"] = "\xff\x00\xc3("
	samples["uni"] = "héllo wörld ǆ ß"
	samples["long"] = strings.Repeat("x", 73)
	samples["b64"] = "aGVsbG8gd29ybGQ="
	samples["num"] = "42"
	dataSets["crypto"] = samples

	c := func(group string, templates ...string) {
		for _, t := range templates {
			handCases = append(handCases, tcase{group, t, "crypto"})
		}
	}
	// derivePassword: every template type, counters (a uint32 constant, truncated as
	// reflect's SetUint truncates), bytes that are not UTF-8.
	c("crypto",
		`{{ derivePassword 1 "long" "password" "user" "example.com" }}`,
		`{{ derivePassword 0 "maximum" "password" "user" "example.com" }}|{{ derivePassword 2 "medium" "password" "user" "example.com" }}`,
		`{{ derivePassword 3 "short" .password "user" "example.com" }}|{{ derivePassword 4294967295 "basic" "pw" "" "" }}`,
		`{{ derivePassword 4294967297 "pin" "pw" "u" "s" }}|{{ derivePassword 1.0 "pin" "pw" "u" "s" }}|{{ derivePassword 'a' "pin" "pw" "u" "s" }}`,
		`{{ derivePassword 0x10 "long" .bin .uni .bin }}`,
		`{{ "site" | derivePassword 7 "maximum" "" "user" }}`,
		`{{ derivePassword 1 "nope" "pw" "u" "s" }}|{{ derivePassword 1 "" "pw" "u" "s" }}|{{ derivePassword 1 "LONG" "pw" "u" "s" }}`,
	)
	c("types",
		`{{ derivePassword -1 "long" "pw" "u" "s" }}`,
		`{{ derivePassword "1" "long" "pw" "u" "s" }}`,
		`{{ derivePassword 1.5 "long" "pw" "u" "s" }}`,
		`{{ derivePassword (add 1 1) "long" "pw" "u" "s" }}`,
		`{{ derivePassword .num "long" "pw" "u" "s" }}`,
		`{{ derivePassword nil "long" "pw" "u" "s" }}`,
		`{{ derivePassword true "long" "pw" "u" "s" }}`,
		`{{ derivePassword 1 "long" "pw" "u" }}`,
		`{{ derivePassword 1 "long" "pw" "u" 3 }}`,
		`{{ bcrypt }}`,
		`{{ bcrypt 3 }}`,
		`{{ htpasswd "a" }}`,
		`{{ htpasswd "a" 1 }}`,
		`{{ genPrivateKey }}`,
		`{{ genPrivateKey 1 }}`,
		`{{ encryptAES "k" }}`,
		`{{ encryptAES 1 "x" }}`,
		`{{ decryptAES "k" 1 }}`,
		`{{ buildCustomCert "a" }}`,
		`{{ buildCustomCert 1 "b" }}`,
	)
	// What needs no randomness: sprig's error texts as values, empty input.
	c("crypto",
		`{{ bcrypt .long }}`,
		`{{ htpasswd "a:b" "pw" }}|{{ htpasswd ":" "pw" }}`,
		`{{ htpasswd "user" .long }}`,
		`{{ genPrivateKey "foo" }}|{{ genPrivateKey "RSA" }}|{{ genPrivateKey "ed448" }}`,
		`{{ encryptAES "k" "" }}|{{ decryptAES "k" "" }}`,
	)
	// decryptAES of Go's ciphertexts, with the right and wrong passwords (the padding byte is
	// then whatever it decrypts to), and of fixed bytes.
	c("crypto",
		`{{ decryptAES "secretkey" .go_aes }}`,
		`{{ decryptAES "a password longer than thirty-two bytes" .go_aes_16 }}|{{ decryptAES "a password longer than thirty-two" .go_aes_16 }}`,
		`{{ decryptAES "" .go_aes_nopw }}|{{ decryptAES "\x00" .go_aes_nopw }}`,
		`{{ decryptAES "k" "not base64!" }}`,
		`{{ decryptAES "k" "AAAA" }}`,
		`{{ decryptAES "k" .b64 }}`,
		`{{ decryptAES "k" (b64enc "0123456789abcdef") }}`,
		`{{ decryptAES "k" (b64enc "0123456789abcdef0123") }}`,
	)
	for _, pw := range []string{"wrong", "secretkeY", "secretkey\x00", "k", "", "0123456789abcdef0123456789abcdef"} {
		c("crypto", `{{ decryptAES "`+pw+`" .go_aes | b64enc }}`)
		for _, ct := range []string{"0123456789abcdefghijklmnopqrstuv", "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKL", "\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00"} {
			c("crypto", `{{ decryptAES "`+pw+`" (b64enc "`+ct+`") | b64enc }}`)
		}
	}
	for i := 0; i < 40; i++ {
		c("crypto", `{{ decryptAES "key`+strings.Repeat("x", i)+`" "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=" | b64enc }}`)
	}
	// buildCustomCert of Go's certificates and keys: the struct, its fields, its type.
	c("crypto",
		`{{ (buildCustomCert .ca_cert_b64 .ca_key_b64).Cert }}`,
		`{{ $c := buildCustomCert .ca_cert_b64 .ca_key_b64 }}{{ $c.Key }}`,
		`{{ buildCustomCert .ca_cert_b64 .ca_key_b64 }}`,
		`{{ $c := buildCustomCert .ec_cert_b64 .ecdsa_key_b64 }}{{ typeOf $c }}|{{ kindOf $c }}|{{ print $c 1 }}`,
		`{{ with buildCustomCert .ed_cert_b64 .ed25519_key_b64 }}{{ .Key }}{{ .Cert }}{{ end }}`,
		`{{ $c := buildCustomCert .ca_cert_b64 .rsa_key_b64 }}{{ $c.Cert | len }} {{ $c.Key | len }}`,
		`{{ $c := buildCustomCert .ca_cert_b64 .ca_key_b64 }}{{ $c.Nope }}`,
		`{{ $c := buildCustomCert .ca_cert_b64 .ca_key_b64 }}{{ if $c }}yes{{ end }}`,
		`{{ buildCustomCert "not base64" .ca_key_b64 }}`,
		`{{ buildCustomCert .ca_cert_b64 "not base64" }}`,
		`{{ buildCustomCert (b64enc "no pem here") .ca_key_b64 }}`,
		`{{ buildCustomCert .ca_cert_b64 (b64enc "no pem here") }}`,
		`{{ buildCustomCert .ca_key_b64 .ca_key_b64 }}`,
		`{{ buildCustomCert .ca_cert_b64 .ca_cert_b64 }}`,
		`{{ buildCustomCert (b64enc "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n") .ca_key_b64 }}`,
		`{{ buildCustomCert .ca_cert_b64 (b64enc "-----BEGIN RSA PRIVATE KEY-----\nAAAA\n-----END RSA PRIVATE KEY-----\n") }}`,
		`{{ buildCustomCert .ca_cert_b64 (b64enc "-----BEGIN EC PRIVATE KEY-----\nAAAA\n-----END EC PRIVATE KEY-----\n") }}`,
		`{{ buildCustomCert .ca_cert_b64 (b64enc "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n") }}`,
		`{{ buildCustomCert .ca_cert_b64 (b64enc "-----BEGIN FOO PRIVATE KEY-----\nAAAA\n-----END FOO PRIVATE KEY-----\n") }}`,
		`{{ buildCustomCert .ca_cert_b64 (b64enc "-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n") }}`,
		`{{ buildCustomCert (b64enc (cat "junk before\n" .go_ca_cert "junk after")) .ca_key_b64 | toString | len }}`,
	)
	// With an environment: what Go's random output makes deterministic.
	c("crypto-env",
		`{{ encryptAES "k" "text" | decryptAES "k" }}`,
		`{{ encryptAES "a password longer than thirty-two bytes" .bin | decryptAES "a password longer than thirty-two bytes" | b64enc }}`,
		`{{ encryptAES "k" "x" | b64dec | len }}|{{ encryptAES "k" "0123456789abcdef" | len }}|{{ encryptAES "" .uni | decryptAES "" }}`,
		`{{ bcrypt "x" | len }}|{{ bcrypt "x" | substr 0 7 }}|{{ bcrypt "" | len }}|{{ bcrypt (repeat 72 "a") | len }}`,
		`{{ htpasswd "u" "p" | substr 0 9 }}|{{ htpasswd "u" "p" | len }}`,
		`{{ genPrivateKey "ecdsa" | len }}|{{ genPrivateKey "ecdsa" | substr 0 40 }}`,
		`{{ genPrivateKey "ed25519" | len }}|{{ genPrivateKey "ed25519" | substr 0 48 }}`,
		`{{ hasPrefix "-----BEGIN RSA PRIVATE KEY-----\nMIIJ" (genPrivateKey "rsa") }}|{{ hasSuffix "\n-----END RSA PRIVATE KEY-----\n" (genPrivateKey "") }}`,
	)

	// The certificate generators: what fails before anything random, and (with an
	// environment) the keys they re-encode and the shape of what they make.
	c("crypto",
		`{{ genSelfSignedCert "x" (list 1) nil 30 }}`,
		`{{ genSelfSignedCert "x" (list "nope") nil 30 }}`,
		`{{ genSelfSignedCert "x" (list "1.2.3.04") nil 30 }}`,
		`{{ genSelfSignedCert "x" (list "1.2.3.4") (list 3) 30 }}`,
		`{{ genSelfSignedCert "x" nil (list "é.example") 30 }}`,
		`{{ genSelfSignedCertWithKey "x" nil nil 30 "garbage" }}`,
		`{{ genSelfSignedCertWithKey "x" (list "::1" 2) nil 30 .go_ecdsa_key }}`,
		`{{ genCAWithKey "x" 30 "garbage" }}`,
		`{{ genCAWithKey "x" 30 .go_ca_cert }}`,
		`{{ genCA .bin 30 }}`,
		`{{ genCAWithKey .bin 30 .go_ecdsa_key }}`,
		`{{ genSignedCert "x" nil nil 30 (buildCustomCert .ca_cert_b64 .rsa_key_b64) }}`,
		`{{ genSignedCertWithKey "x" nil nil 30 (buildCustomCert .ec_cert_b64 .ca_key_b64) .go_ed25519_key }}`,
		`{{ genSignedCertWithKey "x" nil nil 30 (buildCustomCert .ca_cert_b64 .ca_key_b64) "garbage" }}`,
		`{{ genSignedCert "x" (list true) nil 30 (buildCustomCert .ca_cert_b64 .ca_key_b64) }}`,
	)
	c("types",
		`{{ genCA "x" }}`,
		`{{ genCA "x" "30" }}`,
		`{{ genSelfSignedCert "x" "1.2.3.4" nil 30 }}`,
		`{{ genSelfSignedCert "x" (splitList "," "a,b") nil 30 }}`,
		`{{ genSignedCert "x" nil nil 30 "ca" }}`,
		`{{ genSignedCert "x" nil nil 30 nil }}`,
		`{{ genSignedCert "x" nil nil 30 (dict) }}`,
	)
	c("crypto-env",
		`{{ (genCAWithKey "x" 365 .go_ca_key).Key }}`,
		`{{ (genCAWithKey "" -5 .go_ecdsa_key).Key }}|{{ (genSelfSignedCertWithKey "é" (list "::ffff:1.2.3.4") (list "a") 1 .go_ed25519_key).Key }}`,
		`{{ $ca := genCAWithKey "ca" 365 .go_ecdsa_key }}{{ (genSignedCertWithKey "leaf" (list "10.0.0.1") (list "a.example") 30 $ca .go_ed25519_key).Key }}`,
		`{{ $ca := buildCustomCert .ca_cert_b64 .ca_key_b64 }}{{ (genSignedCertWithKey "leaf" nil nil 30 $ca .go_rsa_key).Key }}`,
		`{{ typeOf (genCA "x" 1) }}|{{ hasPrefix "-----BEGIN CERTIFICATE-----\nMII" (genCA "x" 1).Cert }}|{{ hasPrefix "-----BEGIN RSA PRIVATE KEY-----\nMII" (genCA "x" 1).Key }}`,
		`{{ hasPrefix "-----BEGIN CERTIFICATE-----" (genSelfSignedCert "x" nil .missing 30).Cert }}`,
		`{{ $c := genSelfSignedCert "x" nil nil 1 }}{{ hasSuffix "-----END CERTIFICATE-----\n" $c.Cert }}|{{ hasSuffix "-----END RSA PRIVATE KEY-----\n" $c.Key }}`,
		`{{ $ca := genCA "ca" 1 }}{{ $c := genSignedCert "leaf" nil (list "x") 1 $ca }}{{ len (regexFindAll "\n" $c.Cert -1) | lt 10 }}`,
	)
	// Given keys in every form Go reads, re-encoded as Go's pemBlockForKey does.
	for _, k := range []string{"rsa_pkcs8", "ec_pkcs8", "p384_key", "p384_key_pkcs8", "p521_key", "p521_key_pkcs8", "go_ed25519_key"} {
		c("crypto-env", `{{ (genCAWithKey "x" 1 .`+k+`).Key }}`)
		c("crypto-env", `{{ $ca := genCAWithKey "ca" 1 .`+k+` }}{{ (genSignedCertWithKey "x" nil nil 1 $ca .go_ecdsa_key).Key }}`)
		c("crypto", `{{ (buildCustomCert .ca_cert_b64 (b64enc .`+k+`)).Key }}`)
	}
	// Go's pem.Decode: Go's certificate PEM text, edited at random (fixed seed); Go decodes
	// it or not, and buildCustomCert takes it or fails.
	rng := rand.New(rand.NewPCG(3, 4))
	edits := []string{" ", "\t", "\r", "\n", "\r\n", "x", "-", ":", "=", "A", "a: b\n",
		"Proc-Type: 4,ENCRYPTED\n", "-----BEGIN CERTIFICATE-----\n", "-----END CERTIFICATE-----",
		"-----BEGIN X-----\n", "\n-----END CERTIFICATE-----\n", "-----"}
	for i := 0; i < 160; i++ {
		text := []byte(samples["go_ed_cert"])
		for n := 1 + rng.IntN(3); n > 0; n-- {
			at := rng.IntN(len(text) + 1)
			switch rng.IntN(4) {
			case 0, 1:
				e := edits[rng.IntN(len(edits))]
				text = append(text[:at:at], append([]byte(e), text[at:]...)...)
			case 2:
				if at < len(text) {
					text = append(text[:at:at], text[at+1:]...)
				}
			case 3:
				text = append([]byte(edits[rng.IntN(len(edits))]), text...)
			}
		}
		c("crypto", `{{ len (buildCustomCert "`+base64.StdEncoding.EncodeToString(text)+`" .ca_key_b64).Cert }}`)
	}
}
