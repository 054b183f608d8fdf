#!/usr/bin/env ruby
# frozen_string_literal: true

# Regenerates the demo GitLab tree in examples/gitlab/ with the real ActiveSupport, the way GitLab's
# Gitlab::EncryptedConfiguration writes encrypted settings (see test/interop/oracle.rb):
#
#   ruby scripts/make_demo_tree.rb
#
# Every run makes a fresh demo key base and re-encrypts both files with it. The key is public: it only
# exists so that `gitlab-secrets --gitlab-root examples/gitlab smtp show` has something to decrypt.

require 'fileutils'
require 'securerandom'
require_relative '../test/interop/oracle'

ROOT = File.expand_path('../examples/gitlab', __dir__)
SETTINGS_DIR = File.join(ROOT, 'shared', 'encrypted_settings')

GITLAB_YML = <<~YAML
  # A DEMO gitlab.yml for gitlab-secrets' example tree, not a real installation.
  # Made by scripts/make_demo_tree.rb. The encrypted settings live in the default place,
  # <root>/shared/encrypted_settings/, because shared.path and encrypted_settings.path are not set.
  production:
    gitlab:
      host: gitlab.example.com
      port: 443
      https: true
      email_enabled: true
      email_from: gitlab@example.com
      email_display_name: GitLab
      email_reply_to: noreply@example.com

    service_desk_email:
      enabled: true
      address: "support+%{key}@example.com"
      mailbox: inbox
      host: imap.example.com
      port: 993
      ssl: true
      # user and password are not here: they come from shared/encrypted_settings/service_desk_email.yaml.enc

    incoming_email:
      enabled: false
YAML

SMTP = <<~YAML
  user_name: 'smtp-relay@example.com'
  password: 'demo-smtp-password-not-a-real-one'
YAML

SERVICE_DESK_EMAIL = <<~YAML
  user: 'support@example.com'
  password: 'demo-imap-password-not-a-real-one'
YAML

def secrets_yml(key_base)
  <<~YAML
    # DEMO secrets for gitlab-secrets' example tree, made by scripts/make_demo_tree.rb.
    # These keys are published in the gitlab-secrets repository: never use them for a real GitLab.
    production:
      secret_key_base: #{SecureRandom.hex(64)}
      otp_key_base: #{SecureRandom.hex(64)}
      db_key_base: #{SecureRandom.hex(64)}
      encrypted_settings_key_base: #{key_base}
  YAML
end

def write_encrypted(name, plaintext, key_base)
  path = File.join(SETTINGS_DIR, name)
  body = GitlabSecretsOracle.encrypt(plaintext, key_base)
  # Read it back with GitLab's code path before trusting it.
  raise "#{name} does not decrypt" unless GitlabSecretsOracle.decrypt(body, key_base) == plaintext

  File.binwrite(path, body) # GitLab writes the body with no trailing newline
  puts "wrote #{path}"
end

key_base = SecureRandom.hex(64)
FileUtils.mkdir_p([File.join(ROOT, 'config'), SETTINGS_DIR])
File.write(File.join(ROOT, 'config', 'gitlab.yml'), GITLAB_YML)
File.write(File.join(ROOT, 'config', 'secrets.yml'), secrets_yml(key_base))
write_encrypted('smtp.yaml.enc', SMTP, key_base)
write_encrypted('service_desk_email.yaml.enc', SERVICE_DESK_EMAIL, key_base)
puts "demo key base written to #{File.join(ROOT, 'config', 'secrets.yml')}"
