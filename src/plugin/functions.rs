//! Provider functions (protocol 6.5+, Terraform 1.8+, OpenTofu 1.7+): called in HCL as
//! `provider::<name>::<function>(...)`.
//!
//! A function implements [`Function`]: its [`Signature`] (typed parameters, an optional
//! variadic parameter, the return type) and `call`, which reads its arguments from [`Args`]
//! and returns a value or a [`FunctionError`]. Bad input is an error on the argument
//! ([`FunctionError::argument`]), which Terraform shows pointing at that argument. The
//! server checks the number of arguments before calling, so `call` never sees too few.

use async_trait::async_trait;
use serde::de::DeserializeOwned;
use serde::Serialize;
use tf_provider::schema::AttributeType;

use crate::proto::tfplugin6 as pb;

/// One parameter of a function.
#[derive(Clone, Debug)]
pub struct Parameter {
    /// Name, shown in Terraform's messages and the docs.
    pub name: &'static str,
    /// Its type (`AttributeType::String`, `AttributeType::List(...)`, ...).
    pub r#type: AttributeType,
    /// What it is, for users.
    pub description: &'static str,
    /// Terraform may pass null (otherwise it refuses a null before calling).
    pub allow_null: bool,
    /// Terraform may pass an unknown value (otherwise the result is unknown, without a call).
    pub allow_unknown: bool,
}

impl Parameter {
    /// A parameter that is neither null nor unknown when the function is called.
    pub fn new(name: &'static str, r#type: AttributeType, description: &'static str) -> Self {
        Self {
            name,
            r#type,
            description,
            allow_null: false,
            allow_unknown: false,
        }
    }
}

/// What a function takes and returns.
#[derive(Clone, Debug)]
pub struct Signature {
    /// Positional parameters.
    pub parameters: Vec<Parameter>,
    /// Any number of further arguments of this type.
    pub variadic: Option<Parameter>,
    /// Type of the result.
    pub returns: AttributeType,
    /// One line.
    pub summary: &'static str,
    /// Longer description (Markdown).
    pub description: &'static str,
}

/// A function's failure: the text Terraform shows, and the argument it is about.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FunctionError {
    /// The message.
    pub text: String,
    /// Zero-based index of the argument that is wrong, if one is.
    pub argument: Option<usize>,
}

impl FunctionError {
    /// An error on argument `index` (zero-based): bad input.
    pub fn argument(index: usize, text: impl Into<String>) -> Self {
        Self {
            text: text.into(),
            argument: Some(index),
        }
    }

    /// An error about the call as a whole.
    pub fn call(text: impl Into<String>) -> Self {
        Self {
            text: text.into(),
            argument: None,
        }
    }

    pub(crate) fn to_pb(&self) -> pb::FunctionError {
        pb::FunctionError {
            text: self.text.clone(),
            function_argument: self.argument.and_then(|i| i64::try_from(i).ok()),
        }
    }
}

/// The arguments of one call, as Terraform sent them (msgpack, or JSON).
pub struct Args {
    values: Vec<pb::DynamicValue>,
    names: Vec<&'static str>,
}

impl Args {
    pub(crate) fn new(values: Vec<pb::DynamicValue>, signature: &Signature) -> Self {
        let names = (0..values.len())
            .map(|i| {
                signature
                    .parameters
                    .get(i)
                    .or(signature.variadic.as_ref())
                    .map_or("argument", |p| p.name)
            })
            .collect();
        Self { values, names }
    }

    /// Number of arguments (positional and variadic).
    pub fn len(&self) -> usize {
        self.values.len()
    }

    /// True when there are none.
    pub fn is_empty(&self) -> bool {
        self.values.is_empty()
    }

    /// Argument `index` decoded as `T` (`String`, `i64`, `Option<String>` for a nullable
    /// one, `Vec<String>`, `BTreeMap<String, String>`, ...). A value that does not decode
    /// (an unknown, a wrong type) is an error on that argument.
    pub fn get<T: DeserializeOwned>(&self, index: usize) -> Result<T, FunctionError> {
        let Some(v) = self.values.get(index) else {
            return Err(FunctionError::call(format!(
                "missing argument {} (`{}`)",
                index + 1,
                self.names.get(index).copied().unwrap_or("argument")
            )));
        };
        let result = if v.msgpack.is_empty() && !v.json.is_empty() {
            serde_json::from_slice::<T>(&v.json).map_err(|e| e.to_string())
        } else {
            let bytes: &[u8] = if v.msgpack.is_empty() {
                super::framework::NULL_MSGPACK
            } else {
                &v.msgpack
            };
            rmp_serde::from_slice::<T>(bytes).map_err(|e| e.to_string())
        };
        result.map_err(|e| {
            FunctionError::argument(
                index,
                format!(
                    "`{}` has an unexpected value ({e})",
                    self.names.get(index).copied().unwrap_or("argument")
                ),
            )
        })
    }

    /// Every argument from `from` on (the variadic ones), each decoded as `T`.
    pub fn rest<T: DeserializeOwned>(&self, from: usize) -> Result<Vec<T>, FunctionError> {
        (from..self.values.len()).map(|i| self.get(i)).collect()
    }
}

/// A provider function.
#[async_trait]
pub trait Function: Send + Sync + 'static {
    /// The result's Rust type; encoded as the signature's return type says.
    type Output: Serialize + Send;

    /// Parameters, return type and documentation.
    fn signature(&self) -> Signature;

    /// Compute the result. Bad input is `Err(FunctionError::argument(i, ...))`.
    async fn call(&self, args: Args) -> Result<Self::Output, FunctionError>;
}

/// A function with its output type erased.
#[async_trait]
pub(crate) trait ErasedFunction: Send + Sync {
    fn signature(&self) -> Signature;
    async fn call(&self, args: Args) -> Result<Vec<u8>, FunctionError>;
}

pub(crate) struct FunctionAdapter<F>(pub(crate) F);

#[async_trait]
impl<F: Function> ErasedFunction for FunctionAdapter<F> {
    fn signature(&self) -> Signature {
        self.0.signature()
    }
    async fn call(&self, args: Args) -> Result<Vec<u8>, FunctionError> {
        let out = self.0.call(args).await?;
        rmp_serde::to_vec_named(&out).map_err(|e| {
            FunctionError::call(format!(
                "the provider could not encode the result ({e}); this is a bug in the provider"
            ))
        })
    }
}

fn parameter(p: &Parameter) -> pb::function::Parameter {
    pb::function::Parameter {
        name: p.name.to_owned(),
        r#type: p.r#type.to_string().into_bytes(),
        allow_null_value: p.allow_null,
        allow_unknown_values: p.allow_unknown,
        description: p.description.to_owned(),
        description_kind: pb::StringKind::Markdown as i32,
    }
}

/// The protocol's declaration of a function.
pub(crate) fn declaration(s: &Signature) -> pb::Function {
    pb::Function {
        parameters: s.parameters.iter().map(parameter).collect(),
        variadic_parameter: s.variadic.as_ref().map(parameter),
        r#return: Some(pb::function::Return {
            r#type: s.returns.to_string().into_bytes(),
        }),
        summary: s.summary.to_owned(),
        description: s.description.to_owned(),
        description_kind: pb::StringKind::Markdown as i32,
        deprecation_message: String::new(),
    }
}

/// Call `f` with Terraform's arguments: the count is checked against the signature first.
pub(crate) async fn call(
    name: &str,
    f: &dyn ErasedFunction,
    arguments: Vec<pb::DynamicValue>,
) -> Result<Vec<u8>, FunctionError> {
    let signature = f.signature();
    let want = signature.parameters.len();
    if arguments.len() < want {
        return Err(FunctionError::call(format!(
            "`{name}` takes {want} argument(s), got {}",
            arguments.len()
        )));
    }
    if signature.variadic.is_none() && arguments.len() > want {
        return Err(FunctionError::call(format!(
            "`{name}` takes {want} argument(s), got {}",
            arguments.len()
        )));
    }
    f.call(Args::new(arguments, &signature)).await
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Join;

    #[async_trait]
    impl Function for Join {
        type Output = String;
        fn signature(&self) -> Signature {
            Signature {
                parameters: vec![Parameter::new("sep", AttributeType::String, "Separator.")],
                variadic: Some(Parameter::new("part", AttributeType::String, "A part.")),
                returns: AttributeType::String,
                summary: "Join parts.",
                description: "Join parts with a separator.",
            }
        }
        async fn call(&self, args: Args) -> Result<String, FunctionError> {
            let sep: String = args.get(0)?;
            let parts: Vec<String> = args.rest(1)?;
            if parts.iter().any(String::is_empty) {
                let i = parts.iter().position(String::is_empty).unwrap_or(0);
                return Err(FunctionError::argument(i + 1, "a part is empty"));
            }
            Ok(parts.join(&sep))
        }
    }

    fn mp(v: rmpv::Value) -> pb::DynamicValue {
        let mut buf = Vec::new();
        let _ = rmpv::encode::write_value(&mut buf, &v);
        pb::DynamicValue {
            msgpack: buf,
            json: Vec::new(),
        }
    }

    #[tokio::test]
    async fn arguments_are_counted_decoded_and_blamed() {
        let f = FunctionAdapter(Join);
        let ok = call(
            "join",
            &f,
            vec![mp("-".into()), mp("a".into()), mp("b".into())],
        )
        .await;
        let out: String = rmp_serde::from_slice(&ok.expect("result")).expect("string");
        assert_eq!(out, "a-b");

        let none = call("join", &f, vec![]).await.expect_err("too few");
        assert_eq!(none.argument, None);
        assert!(none.text.contains("takes 1"), "{}", none.text);

        let wrong = call("join", &f, vec![mp("-".into()), mp(7.into())]).await;
        let wrong = wrong.expect_err("a number is not a string");
        assert_eq!(wrong.argument, Some(1));
        assert!(wrong.text.contains("`part`"), "{}", wrong.text);

        let unknown = rmpv::Value::Ext(0, vec![0]);
        let e = call("join", &f, vec![mp(unknown)])
            .await
            .expect_err("unknown");
        assert_eq!(e.argument, Some(0));

        let e = call("join", &f, vec![mp("-".into()), mp("".into())]).await;
        assert_eq!(e.expect_err("empty").argument, Some(1));

        let decl = declaration(&Join.signature());
        assert_eq!(decl.parameters[0].r#type, br#""string""#);
        assert!(decl.variadic_parameter.is_some());
        assert_eq!(
            decl.r#return.expect("return").r#type,
            br#""string""#.to_vec()
        );
    }
}
