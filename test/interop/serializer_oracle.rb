#!/usr/bin/env ruby
# frozen_string_literal: true

# The serializer and digest oracle: bodies made and read by the real ActiveSupport::MessageEncryptor the
# way a Rails 7.1 GitLab would, with either message serializer and either key digest. ActiveSupport 6.1
# is installed, so Rails 7.1's pieces are rebuilt here from its source:
#   - ActiveSupport::Messages::SerializerWithFallback: :marshal, :json and :json_allow_marshal, where the
#     JSON format is ActiveSupport::JSON.encode / .decode and a format is detected from the first bytes;
#   - KeyGenerator with hash_digest_class SHA256: OpenSSL::PKCS5.pbkdf2_hmac(base, salt, 2**16, 32, SHA256).
#
# A long-lived process: one JSON job per line on stdin, one JSON result per line on stdout.
#   { "op": "encrypt", "key_base", "serializer": "marshal|json", "digest": "sha1|sha256", "plaintext_hex" }
#       => { "ok": true, "body": "..." }
#   { "op": "decrypt", "key_base", "serializer": "marshal|json|json_allow_marshal|marshal61", "digest", "body" }
#       => { "ok": true, "plaintext_hex": "...", "encoding": "UTF-8" }
#   { "op": "payload", "key_base", "digest", "body" }  => { "ok": true, "payload_hex": "..." } (no serializer)
#   { "op": "json_encode", "plaintext_hex" }             => { "ok": true, "payload_hex": "..." }
#   a failure => { "ok": false, "error": "<exception class>", "message": "..." }

require 'json'
require 'openssl'
require 'active_support'
require 'active_support/json'
require 'active_support/core_ext/object/blank'
require 'active_support/key_generator'
require 'active_support/message_encryptor'

module SerializerOracle
  CIPHER = 'aes-256-gcm'
  SALT = 'GitLabEncryptedConfigSalt'

  # The payload as it is, for byte comparisons and hand-made payloads.
  module Raw
    def self.dump(object) = object.b
    def self.load(dumped) = dumped
  end

  # Rails 7.1 activesupport/lib/active_support/messages/serializer_with_fallback.rb, trimmed to what a
  # String payload needs (no MessagePack, no notification).
  module WithFallback
    MARSHAL_SIGNATURE = "\x04\x08".b
    JSON_START_WITH = /\A(?:[{\["]|-?\d|true|false|null)/.freeze

    def self.detect_format(dumped)
      if dumped.start_with?(MARSHAL_SIGNATURE) then :marshal
      elsif JSON_START_WITH.match?(dumped) then :json
      end
    end

    def self.load_as(format, dumped)
      format == :marshal ? Marshal.load(dumped) : ActiveSupport::JSON.decode(dumped)
    end

    Serializer = Struct.new(:format, :fallbacks) do
      def dump(object)
        format == :marshal ? Marshal.dump(object) : ActiveSupport::JSON.encode(object)
      end

      def load(dumped)
        found = WithFallback.detect_format(dumped)
        raise 'Unsupported serialization format' unless found == format || fallbacks.include?(found)

        WithFallback.load_as(found, dumped)
      end
    end

    SERIALIZERS = {
      'marshal' => Serializer.new(:marshal, [:json]), # Rails 7.1 :marshal falls back to JSON
      'json' => Serializer.new(:json, []),
      'json_allow_marshal' => Serializer.new(:json, [:marshal]),
      'marshal61' => Marshal, # Rails 6.1 / 7.0 and GitLab today: Marshal only
      'raw' => Raw, # encrypt: the plaintext is the payload itself
    }.freeze
  end

  module_function

  def generate_key(key_base, digest)
    key_base = key_base.dup.force_encoding(Encoding::UTF_8)
    raise 'Base key too small' if key_base.blank? || key_base.length < 16

    length = ActiveSupport::MessageEncryptor.key_len(CIPHER)
    case digest
    when 'sha1' then ActiveSupport::KeyGenerator.new(key_base, iterations: 2**16).generate_key(SALT, length)
    when 'sha256' then OpenSSL::PKCS5.pbkdf2_hmac(key_base, SALT, 2**16, length, OpenSSL::Digest::SHA256.new)
    else raise ArgumentError, "unknown digest #{digest.inspect}"
    end
  end

  def encryptor(job, serializer)
    ActiveSupport::MessageEncryptor.new(generate_key(job.fetch('key_base'), job.fetch('digest')), cipher: CIPHER, serializer: serializer)
  end

  def serializer(name)
    WithFallback::SERIALIZERS.fetch(name) { raise ArgumentError, "unknown serializer #{name.inspect}" }
  end

  def plaintext(job)
    [job.fetch('plaintext_hex')].pack('H*').force_encoding(Encoding::UTF_8)
  end

  def run_job(job)
    case job.fetch('op')
    when 'encrypt'
      { 'ok' => true, 'body' => encryptor(job, serializer(job.fetch('serializer'))).encrypt_and_sign(plaintext(job)) }
    when 'decrypt'
      text = encryptor(job, serializer(job.fetch('serializer'))).decrypt_and_verify(job.fetch('body').b)
      raise ActiveSupport::MessageEncryptor::InvalidMessage, 'not a String' unless text.is_a?(String)

      { 'ok' => true, 'plaintext_hex' => text.unpack1('H*'), 'encoding' => text.encoding.name }
    when 'payload'
      { 'ok' => true, 'payload_hex' => encryptor(job, Raw).decrypt_and_verify(job.fetch('body').b).unpack1('H*') }
    when 'json_encode'
      { 'ok' => true, 'payload_hex' => ActiveSupport::JSON.encode(plaintext(job)).b.unpack1('H*') }
    else
      raise ArgumentError, "unknown op #{job['op'].inspect}"
    end
  rescue StandardError => e
    { 'ok' => false, 'error' => e.class.name, 'message' => e.message }
  end

  def main
    $stdout.sync = true
    $stdin.each_line { |line| $stdout.puts(JSON.generate(run_job(JSON.parse(line)))) }
  end
end

SerializerOracle.main if $PROGRAM_NAME == __FILE__
