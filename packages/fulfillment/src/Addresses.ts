import type { AddressCandidate, ShippingAddress } from "@shop/domain/Fulfillment"

// Address validation for shipping: pure functions, so the rules are the same
// wherever the service runs.

// ISO 3166-1 alpha-2: the 249 officially assigned codes.
export const countries: ReadonlySet<string> = new Set(
  (
    "AD AE AF AG AI AL AM AO AQ AR AS AT AU AW AX AZ BA BB BD BE BF BG BH BI BJ BL BM BN BO BQ BR BS BT BV BW BY BZ " +
    "CA CC CD CF CG CH CI CK CL CM CN CO CR CU CV CW CX CY CZ DE DJ DK DM DO DZ EC EE EG EH ER ES ET " +
    "FI FJ FK FM FO FR GA GB GD GE GF GG GH GI GL GM GN GP GQ GR GS GT GU GW GY HK HM HN HR HT HU " +
    "ID IE IL IM IN IO IQ IR IS IT JE JM JO JP KE KG KH KI KM KN KP KR KW KY KZ LA LB LC LI LK LR LS LT LU LV LY " +
    "MA MC MD ME MF MG MH MK ML MM MN MO MP MQ MR MS MT MU MV MW MX MY MZ NA NC NE NF NG NI NL NO NP NR NU NZ " +
    "OM PA PE PF PG PH PK PL PM PN PR PS PT PW PY QA RE RO RS RU RW " +
    "SA SB SC SD SE SG SH SI SJ SK SL SM SN SO SR SS ST SV SX SY SZ TC TD TF TG TH TJ TK TL TM TN TO TR TT TV TW TZ " +
    "UA UG UM US UY UZ VA VC VE VG VI VN VU WF WS YE YT ZA ZM ZW"
  ).split(" ")
)

// Countries shipped and taxed by region: the region is required, as its code.
export const regions: Readonly<Record<string, ReadonlySet<string>>> = {
  US: new Set(
    (
      "AL AK AZ AR CA CO CT DE DC FL GA HI ID IL IN IA KS KY LA ME MD MA MI MN MS MO MT NE NV NH NJ NM NY NC ND " +
      "OH OK OR PA RI SC SD TN TX UT VT VA WA WV WI WY AS GU MP PR VI UM AA AE AP"
    ).split(" ")
  ),
  CA: new Set("AB BC MB NB NL NS NT NU ON PE QC SK YT".split(" ")),
  AU: new Set("ACT NSW NT QLD SA TAS VIC WA".split(" "))
}

interface PostalFormat {
  readonly pattern: RegExp
  readonly example: string
  // The canonical form of a code that matched (upper case, one spacing).
  readonly normalize: (code: string) => string
}

const compact = (code: string) => code.replace(/[\s-]/g, "").toUpperCase()

export const postalFormats: Readonly<Record<string, PostalFormat>> = {
  US: {
    pattern: /^\d{5}(-?\d{4})?$/,
    example: "94103 or 94103-1234",
    normalize: (c) => {
      const d = compact(c)
      return d.length === 9 ? `${d.slice(0, 5)}-${d.slice(5)}` : d
    }
  },
  CA: {
    pattern: /^[ABCEGHJ-NPRSTVXY]\d[ABCEGHJ-NPRSTV-Z] ?\d[ABCEGHJ-NPRSTV-Z]\d$/i,
    example: "K1A 0B1",
    normalize: (c) => {
      const d = compact(c)
      return `${d.slice(0, 3)} ${d.slice(3)}`
    }
  },
  GB: {
    pattern: /^(GIR ?0AA|[A-Z]{1,2}\d[A-Z\d]? ?\d[A-Z]{2})$/i,
    example: "SW1A 1AA",
    normalize: (c) => {
      const d = compact(c)
      return `${d.slice(0, -3)} ${d.slice(-3)}`
    }
  },
  DE: { pattern: /^\d{5}$/, example: "10115", normalize: compact },
  FR: { pattern: /^\d{5}$/, example: "75001", normalize: compact },
  IN: { pattern: /^[1-9]\d{2} ?\d{3}$/, example: "110001", normalize: compact },
  JP: {
    pattern: /^\d{3}-?\d{4}$/,
    example: "100-0001",
    normalize: (c) => {
      const d = compact(c)
      return `${d.slice(0, 3)}-${d.slice(3)}`
    }
  },
  AU: { pattern: /^\d{4}$/, example: "2000", normalize: compact }
}

export interface Issue {
  readonly path: string
  readonly message: string
}

const present = (value: string | undefined) => {
  const trimmed = value?.trim()
  return trimmed === undefined || trimmed.length === 0 ? undefined : trimmed
}

// Either the normalized address, or every problem found, each naming its field.
export const validate = (
  address: AddressCandidate
):
  | { readonly _tag: "Valid"; readonly address: ShippingAddress }
  | { readonly _tag: "Invalid"; readonly issues: ReadonlyArray<Issue> } => {
  const issues: Array<Issue> = []
  const required = (field: "line1" | "city" | "postalCode" | "country") => {
    const value = present(address[field])
    if (value === undefined) issues.push({ path: field, message: "is required" })
    return value
  }
  const line1 = required("line1")
  const city = required("city")
  const rawCountry = required("country")
  const rawPostal = required("postalCode")

  let country: string | undefined
  if (rawCountry !== undefined) {
    const upper = rawCountry.toUpperCase()
    if (countries.has(upper)) country = upper
    else issues.push({ path: "country", message: "must be an ISO 3166-1 alpha-2 country code" })
  }

  let postalCode = rawPostal
  if (country !== undefined && rawPostal !== undefined) {
    const format = postalFormats[country]
    if (format !== undefined) {
      if (format.pattern.test(rawPostal)) postalCode = format.normalize(rawPostal)
      else
        issues.push({
          path: "postalCode",
          message: `is not a valid ${country} postal code (for example ${format.example})`
        })
    }
  }

  let region = present(address.region)
  const known = country === undefined ? undefined : regions[country]
  if (known !== undefined && country !== undefined) {
    const upper = region?.toUpperCase()
    const code = upper?.startsWith(`${country}-`) ? upper.slice(country.length + 1) : upper
    if (code === undefined) issues.push({ path: "region", message: `is required for ${country}` })
    else if (!known.has(code)) issues.push({ path: "region", message: `is not a ${country} region code` })
    else region = code
  }

  if (
    issues.length > 0 ||
    line1 === undefined ||
    city === undefined ||
    country === undefined ||
    postalCode === undefined
  ) {
    return { _tag: "Invalid", issues }
  }
  const name = present(address.name)
  const line2 = present(address.line2)
  const phone = present(address.phone)
  return {
    _tag: "Valid",
    address: {
      ...(name !== undefined ? { name } : {}),
      line1,
      ...(line2 !== undefined ? { line2 } : {}),
      city,
      ...(region !== undefined ? { region } : {}),
      postalCode,
      country,
      ...(phone !== undefined ? { phone } : {})
    }
  }
}
