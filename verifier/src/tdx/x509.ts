/**
 * @peculiar/x509, loaded after the Reflect metadata polyfill its dependency injection container
 * (tsyringe) requires. Import X.509 types from here, never from the package directly (the
 * generators are for tests).
 */
import "reflect-metadata";

export {
  BasicConstraintsExtension,
  X509Certificate,
  X509CertificateGenerator,
  X509Crl,
  X509CrlGenerator,
} from "@peculiar/x509";
