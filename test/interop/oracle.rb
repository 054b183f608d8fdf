#!/usr/bin/env ruby
# frozen_string_literal: true

# The interop oracle: GitLab's encrypted settings bodies made and read by the real ActiveSupport, the way
# GitLab's lib/gitlab/encrypted_configuration.rb does it (generate_key, encryptor, encrypt, decrypt).
#
#   ruby oracle.rb encrypt KEY_BASE [--encoding UTF-8|BINARY|US-ASCII|Shift_JIS] < plaintext > body
#   ruby oracle.rb decrypt KEY_BASE [ROTATED_KEY_BASE ...] < body > plaintext
#   ruby oracle.rb batch < jobs.json > results.json
#   ruby oracle.rb versions
#   ruby oracle.rb serve REQUESTS RESPONSES
#
# `serve` is the test suite's long-lived oracle: one Ruby per test file instead of one per case. It reads
# JSON lines from the file (a FIFO) REQUESTS, {"argv": ["encrypt", KEY_BASE, ...], "input_base64": "..."}, runs
# each as the command line above with that stdin, and answers on RESPONSES with one JSON line
# {"status": <exit status>, "stdout_base64": "...", "stderr": "..."}. It ends when REQUESTS is closed.
# A request may name files instead, {"argv": [...], "input_path": "...", "output_path": "..."}: stdin is
# read from the one, stdout written to the other, and the answer has no "stdout_base64" (big inputs).
#
# Batch jobs (a JSON array; results come back in the same order, one failure never stops the batch):
#   { "op": "encrypt", "key_base": "...", "plaintext_hex": "...", "encoding": "UTF-8" }  => { "ok": true, "body": "..." }
#   { "op": "decrypt", "key_base": "...", "rotated_key_bases": [], "body": "..." }
#                                           => { "ok": true, "plaintext_hex": "...", "encoding": "UTF-8" }
#   { "op": "marshal", "plaintext_hex": "...", "encoding": "UTF-8" }                      => { "ok": true, "marshal_hex": "..." }
#   a failure                                  => { "ok": false, "error": "<exception class>", "message": "..." }
#
# Plaintext is bytes: stdin and stdout are binary, and a plaintext's Ruby encoding is only a label that
# Marshal records (UTF-8 by default, as GitLab's File.read / STDIN.read give under a UTF-8 locale).

require 'json'
require 'stringio'
require 'openssl'
require 'active_support'
require 'active_support/core_ext/object/blank'
require 'active_support/key_generator'
require 'active_support/message_encryptor'

module GitlabSecretsOracle
  CIPHER = 'aes-256-gcm'
  SALT = 'GitLabEncryptedConfigSalt'
  ENCODINGS = %w[UTF-8 BINARY US-ASCII Shift_JIS].freeze

  module_function

  # Gitlab::EncryptedConfiguration.generate_key. GitLab relies on KeyGenerator's defaults; we pass them
  # explicitly so a newer ActiveSupport (7.0 made the digest configurable) cannot change the key under us.
  def generate_key(key_base)
    key_base = utf8(key_base)
    raise 'Base key too small' if key_base.blank? || key_base.length < 16

    (@keys ||= {})[key_base] ||= begin
      options = { iterations: 2**16 }
      # ActiveSupport 6.1 hard-codes OpenSSL::PKCS5.pbkdf2_hmac_sha1 and has no such option.
      options[:hash_digest_class] = OpenSSL::Digest::SHA1 if ActiveSupport::KeyGenerator.respond_to?(:hash_digest_class)
      ActiveSupport::KeyGenerator.new(key_base, **options)
                                 .generate_key(SALT, ActiveSupport::MessageEncryptor.key_len(CIPHER))
    end
  end

  # Gitlab::EncryptedConfiguration#encryptor: the primary key, then each rotated key as a fallback.
  def encryptor(key_base, rotated_key_bases = [])
    encryptor = ActiveSupport::MessageEncryptor.new(generate_key(key_base), cipher: CIPHER, serializer: Marshal)
    rotated_key_bases.each { |old| encryptor.rotate(generate_key(old)) }
    encryptor
  end

  def encrypt(plaintext, key_base, encoding = 'UTF-8')
    encryptor(key_base).encrypt_and_sign(label(plaintext, encoding))
  end

  # Returns the plaintext String (its encoding is what Marshal recorded). Raises
  # ActiveSupport::MessageEncryptor::InvalidMessage for a wrong key or a corrupt body.
  def decrypt(body, key_base, rotated_key_bases = [])
    plaintext = encryptor(key_base, rotated_key_bases).decrypt_and_verify(body.b)
    raise ActiveSupport::MessageEncryptor::InvalidMessage, 'not a String' unless plaintext.is_a?(String)

    plaintext
  end

  def label(bytes, encoding)
    raise ArgumentError, "unsupported encoding #{encoding}" unless ENCODINGS.include?(encoding)

    bytes.dup.force_encoding(encoding)
  end

  def utf8(text)
    text.dup.force_encoding(Encoding::UTF_8)
  end

  def run_job(job)
    case job.fetch('op')
    when 'encrypt'
      plaintext = [job.fetch('plaintext_hex')].pack('H*')
      { 'ok' => true, 'body' => encrypt(plaintext, job.fetch('key_base'), job.fetch('encoding', 'UTF-8')) }
    when 'decrypt'
      plaintext = decrypt(job.fetch('body'), job.fetch('key_base'), job.fetch('rotated_key_bases', []))
      { 'ok' => true, 'plaintext_hex' => plaintext.unpack1('H*'), 'encoding' => plaintext.encoding.name }
    when 'marshal'
      plaintext = label([job.fetch('plaintext_hex')].pack('H*'), job.fetch('encoding', 'UTF-8'))
      { 'ok' => true, 'marshal_hex' => Marshal.dump(plaintext).unpack1('H*') }
    else
      raise ArgumentError, "unknown op #{job['op'].inspect}"
    end
  rescue StandardError => e
    { 'ok' => false, 'error' => e.class.name, 'message' => e.message }
  end

  def versions
    { 'ruby' => RUBY_VERSION, 'activesupport' => ActiveSupport::VERSION::STRING, 'openssl' => OpenSSL::OPENSSL_VERSION }
  end

  def serve(requests_path, responses_path)
    requests = File.open(requests_path, 'rb')
    responses = File.open(responses_path, 'wb')
    responses.sync = true
    requests.each_line do |line|
      request = JSON.parse(line)
      input = request.key?('input_path') ? File.binread(request['input_path']) : request.fetch('input_base64').unpack1('m0')
      status, out, err = capture(request.fetch('argv'), input)
      if request.key?('output_path')
        File.binwrite(request['output_path'], out)
        responses.write("#{JSON.generate({ 'status' => status, 'stderr' => err })}\n")
      else
        responses.write("#{JSON.generate({ 'status' => status, 'stdout_base64' => [out].pack('m0'), 'stderr' => err })}\n")
      end
    end
  end

  # Run one command line as `main` with these stdin bytes: its exit status, stdout bytes and stderr.
  def capture(argv, input)
    saved = [$stdin, $stdout, $stderr]
    $stdin = StringIO.new(input)
    $stdout = StringIO.new(+''.b)
    $stderr = StringIO.new(+'')
    status = 0
    begin
      main(argv.dup)
    rescue SystemExit => e
      status = e.status
    end
    [status, $stdout.string, $stderr.string.scrub]
  ensure
    $stdin, $stdout, $stderr = saved
  end

  def main(argv)
    $stdin.binmode
    $stdout.binmode
    command = argv.shift
    case command
    when 'encrypt'
      encoding = 'UTF-8'
      if (at = argv.index('--encoding'))
        encoding = argv[at + 1] or abort('oracle.rb: --encoding needs a value')
        argv.slice!(at, 2)
      end
      abort('usage: oracle.rb encrypt KEY_BASE [--encoding NAME] < plaintext') unless argv.length == 1
      $stdout.write(encrypt($stdin.read, argv[0], encoding))
    when 'decrypt'
      abort('usage: oracle.rb decrypt KEY_BASE [ROTATED ...] < body') if argv.empty?
      begin
        $stdout.write(decrypt($stdin.read, argv[0], argv[1..]))
      rescue ActiveSupport::MessageEncryptor::InvalidMessage
        warn 'oracle.rb: ActiveSupport::MessageEncryptor::InvalidMessage (wrong key or corrupt body)'
        exit 1
      end
    when 'batch'
      jobs = JSON.parse($stdin.read)
      $stdout.write(JSON.generate(jobs.map { |job| run_job(job) }))
    when 'versions'
      $stdout.write(JSON.generate(versions))
    else
      abort('usage: oracle.rb encrypt|decrypt|batch|versions (see the comment at the top)')
    end
  rescue RuntimeError, ArgumentError => e
    warn "oracle.rb: #{e.message}"
    exit 2
  end
end

if $PROGRAM_NAME == __FILE__
  if ARGV.first == 'serve' && ARGV.length == 3
    GitlabSecretsOracle.serve(ARGV[1], ARGV[2])
  else
    GitlabSecretsOracle.main(ARGV.dup)
  end
end
