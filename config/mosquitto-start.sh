#!/bin/sh
# The Compose broker's start (docker-compose.yml runs it in the eclipse-mosquitto image, as
# root, before the image's own entrypoint): the password file mosquitto.conf names is made
# from the Compose secret on every start, so the password is only ever written in one place
# (secrets/mqtt-password on the host), and the hash is never on a volume.
#
# The paths can be moved for tests (tests/compose.rs runs this with a real mosquitto).
set -eu

secret="${MQTT_PASSWORD_SECRET:-/run/secrets/mqtt_password}"
passwd="${MOSQUITTO_PASSWORD_FILE:-/mosquitto/passwd}"
user="${MQTT_USER:-anova2mqtt}"

if [ ! -f "$secret" ] || [ ! -s "$secret" ]; then
  echo "mosquitto-start: no broker password in $secret." >&2
  echo "Create it on the host (README, \"With Docker Compose\"):" >&2
  echo "  head -c 24 /dev/urandom | base64 > secrets/mqtt-password" >&2
  exit 78
fi
# The file without its line ending, as the bridge reads a password file (the shell drops
# trailing newlines; a Windows editor's carriage return goes too).
password=$(cat "$secret")
password=${password%"$(printf '\r')"}
case "$password" in
  "") echo "mosquitto-start: $secret is empty." >&2; exit 78 ;;
  *[[:space:]]*)
    echo "mosquitto-start: the broker password in $secret has a space, tab or second line;" >&2
    echo "make one without (README, \"With Docker Compose\")." >&2
    exit 78 ;;
esac

umask 077
rm -f "$passwd"
# "user:password" in plain text, then hashed in place (-U): the password never appears on a
# command line, where `ps` could show it.
printf '%s:%s\n' "$user" "$password" > "$passwd"
mosquitto_passwd -U "$passwd"
if [ "$(id -u)" = 0 ]; then
  # mosquitto reads the file after dropping to its own user.
  chown mosquitto:mosquitto "$passwd"
fi

# The healthcheck's mosquitto_sub reads its options from here (one per line, split at spaces,
# hence no spaces in the password), so the password is not on its command line either.
mkdir -p "$HOME/.config"
printf -- '-u %s\n-P %s\n' "$user" "$password" > "$HOME/.config/mosquitto_sub"

exec "$@"
